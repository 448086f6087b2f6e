// The server as a black box: `node server.js` on an ephemeral port, the contract over real HTTP, the ready
// line, graceful shutdown, and a cluster worker replaced after SIGKILL. Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startServer, request, pipeline, qrPath, SERVER_JS } = require('../testing/server');
const { decodeQrPng } = require('../testing/qr-decode');
const { ARTICLE_URLS, EDGE_TEXTS } = require('../testing/texts');
const { MESSAGES } = require('../http/query');
const tier1 = require('../tiers/tier-1');

const TEXT_PLAIN = 'text/plain; charset=utf-8';
/** Every test here is bounded: a hung server fails the test instead of hanging `npm test`. */
const BOUNDED = { timeout: 120_000 };

async function expectError(port, urlPath, status, body, options) {
  const res = await request(port, urlPath, options);
  assert.equal(res.status, status, `${options?.method ?? 'GET'} ${urlPath.slice(0, 80)}`);
  assert.equal(res.headers['content-type'], TEXT_PLAIN);
  assert.equal(res.body.toString('utf8'), body); // one line, no trailing newline
  return res;
}

async function expectQr(port, text) {
  const res = await request(port, qrPath(text));
  assert.equal(res.status, 200, `GET ${JSON.stringify(text.slice(0, 40))}: ${res.body.toString().slice(0, 100)}`);
  assert.equal(res.headers['content-type'], 'image/png');
  assert.deepEqual(decodeQrPng(res.body), Buffer.from(text, 'utf8'));
}

/** The contract rows, checked against a running server. */
async function checkContract(port) {
  for (const text of [...ARTICLE_URLS, ...EDGE_TEXTS]) await expectQr(port, text);

  // Conditional headers change nothing: always the 200 and its PNG, never a 304 (as in tier-4).
  const conditional = { 'If-None-Match': '*', 'If-Modified-Since': new Date().toUTCString() };
  const fresh = await request(port, qrPath('conditional'), { headers: conditional });
  assert.equal(fresh.status, 200);
  assert.deepEqual(decodeQrPng(fresh.body), Buffer.from('conditional'));

  await expectError(port, '/qrcode', 400, MESSAGES.missing);
  await expectError(port, '/qrcode?text=', 400, MESSAGES.missing);
  await expectError(port, '/qrcode?text=a&text=b', 400, MESSAGES.notOnce);
  await expectError(port, '/qrcode?text[x]=a', 400, MESSAGES.notOnce);
  await expectError(port, '/qrcode?text%5B%5D=a', 400, MESSAGES.notOnce);
  await expectError(port, '/qrcode?text=%FF', 400, MESSAGES.notUtf8);
  await expectError(port, `/qrcode?text=${'a'.repeat(513)}`, 400, MESSAGES.tooLong);
  await expectError(port, `/qrcode?text=${'%C3%A9'.repeat(256)}a`, 400, MESSAGES.tooLong);
  await expectError(port, `/qrcode?text=${'a'.repeat(20_000)}`, 400, MESSAGES.tooLong); // a 20 KB URL
  await expectError(port, `/qrcode?text=${'a'.repeat(60_000)}`, 400, MESSAGES.tooLong); // heads up to 64 KiB pass

  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const res = await expectError(port, '/qrcode?text=a', 405, 'method not allowed', { method });
    assert.equal(res.headers.allow, 'GET, HEAD');
  }
  for (const p of ['/', '/qrcode/', '/QRCODE', '/qrcode/x', '/qrcodes?text=a', '/favicon.ico']) {
    await expectError(port, p, 404, 'not found');
  }

  const get = await request(port, qrPath('head'));
  const head = await request(port, qrPath('head'), { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-type'], 'image/png');
  assert.equal(head.headers['content-length'], String(get.body.length));
  assert.equal(head.body.length, 0);
  const headError = await request(port, '/qrcode', { method: 'HEAD' });
  assert.equal(headError.status, 400);
  assert.equal(headError.body.length, 0);

  assert.equal(get.headers['x-powered-by'], undefined);
  assert.equal(get.headers.etag, undefined);

  // Pipelining: many requests in one write on one connection, every answer for its own request.
  const texts = Array.from({ length: 12 }, (_, i) => `pipelined ${i} ${'p'.repeat(i * 30)}`);
  const responses = await pipeline(port, [...texts.map(qrPath), '/qrcode?text=', '/nope']);
  texts.forEach((text, i) => {
    assert.equal(responses[i].status, 200);
    assert.deepEqual(decodeQrPng(responses[i].body), Buffer.from(text));
  });
  assert.equal(responses[12].status, 400);
  assert.equal(responses[12].body.toString(), MESSAGES.missing);
  assert.equal(responses[13].status, 404);

  // After all of that, a normal request still succeeds.
  await expectQr(port, 'still fine');
}

for (const mode of [['--mode', 'single'], ['--mode', 'cluster', '--workers', '2']]) {
  test(`tier-0 ${mode.join(' ')}: ready line, the contract over HTTP, SIGTERM -> exit 0`, BOUNDED, async () => {
    const server = await startServer(['--tier', 'tier-0', ...mode]);
    try {
      await checkContract(server.port);
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
    }
    assert.equal(server.stdout(), `listening on http://127.0.0.1:${server.port}\n`); // exactly one line
  });
}

test('a connection past --max-connections gets a 503 and is closed; its place frees up again', BOUNDED, async () => {
  const server = await startServer(['--tier', 'tier-0', '--max-connections', '1']);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // The one allowed connection, kept open by the agent.
    assert.equal((await request(server.port, qrPath('first'), { agent })).status, 200);
    // One more connection while it is open: turned away, whatever it asks.
    for (const urlPath of [qrPath('second'), '/qrcode']) {
      const res = await expectError(server.port, urlPath, 503, 'server is busy');
      assert.equal(res.headers.connection, 'close');
    }
    agent.destroy(); // closes the first connection
    const deadline = Date.now() + 5000;
    for (;;) {
      const res = await request(server.port, qrPath('third'));
      if (res.status === 200) {
        assert.deepEqual(decodeQrPng(res.body), Buffer.from('third'));
        break;
      }
      assert.ok(Date.now() < deadline, 'the place was never freed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    agent.destroy();
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  }
});

test('a client that never finishes its request head is cut off after the 10 s header timeout', BOUNDED, async () => {
  const server = await startServer(['--tier', 'tier-0']);
  try {
    const started = Date.now();
    const closedAfter = await new Promise((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET /qrcode?te'));
      socket.on('error', reject);
      socket.on('data', () => {}); // Node answers 408 before closing
      socket.on('close', () => resolve(Date.now() - started));
    });
    assert.ok(closedAfter >= 9_500 && closedAfter < 15_000, `closed after ${closedAfter} ms`);
    await expectQr(server.port, 'still served');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  }
});

test('cluster: a worker killed with SIGKILL is replaced while requests still succeed', BOUNDED, async () => {
  const server = await startServer(['--tier', 'tier-0', '--mode', 'cluster', '--workers', '2']);
  try {
    const listening = /worker (\d+) \(pid (\d+)\) listening/g;
    const pids = [...server.stderr().matchAll(listening)].map((m) => Number(m[2]));
    assert.equal(pids.length, 2, server.stderr());
    process.kill(pids[0], 'SIGKILL');
    await server.waitForStderr(new RegExp(`\\(pid ${pids[0]}\\) died \\(signal SIGKILL\\); replacing it in \\d+ ms`));
    // One worker serves while the other is replaced.
    for (let i = 0; i < 5; i++) await expectQr(server.port, `while replacing ${i}`);
    const [, , newPid] = await server.waitForStderr(/worker (3) \(pid (\d+)\) listening/);
    assert.ok(!pids.includes(Number(newPid)));
    assert.throws(() => process.kill(pids[0], 0), { code: 'ESRCH' });
    for (let i = 0; i < 5; i++) await expectQr(server.port, `after replacing ${i}`);
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  }
  assert.equal(server.stdout().split('\n').filter(Boolean).length, 1, 'the ready line is printed once');
});

test('SIGTERM or SIGINT lets an in-flight request finish (tier-1 with a slow binary), then exit 0', BOUNDED, async () => {
  assert.ok(fs.existsSync(tier1.CLI), `needs qr-cli at ${tier1.CLI}: run \`cargo xtask build\``);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rusty-qr-slow-'));
  const slow = path.join(dir, 'slow-qr-cli');
  // The real binary, one second late for the text "slow" (the start-up self-check stays fast).
  fs.writeFileSync(slow, `#!/bin/sh\ntext=$(cat)\n[ "$text" = slow ] && sleep 1\nprintf %s "$text" | exec "${tier1.CLI}" "$@"\n`, {
    mode: 0o755,
  });
  try {
    // Cluster: Ctrl-C in a terminal sends SIGINT to the primary and every worker at once.
    for (const [mode, signal, group] of [
      [['--mode', 'single'], 'SIGTERM', false],
      [['--mode', 'single'], 'SIGINT', false],
      [['--mode', 'cluster', '--workers', '2'], 'SIGTERM', false],
      [['--mode', 'cluster', '--workers', '2'], 'SIGINT', true],
    ]) {
      const server = await startServer(['--tier', 'tier-1', ...mode], { env: { RUSTY_QR_CLI: slow } });
      // A keep-alive connection: the server must close it after the response instead of waiting for it.
      const agent = new http.Agent({ keepAlive: true });
      const inFlight = request(server.port, qrPath('slow'), { agent });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const code = server.stop(signal, { group });
      const res = await inFlight;
      const answered = Date.now();
      assert.equal(res.status, 200, server.stderr());
      assert.equal(res.headers.connection, 'close');
      assert.deepEqual(decodeQrPng(res.body), Buffer.from('slow'));
      assert.equal(await code, 0, server.stderr());
      assert.ok(Date.now() - answered < 3_000, 'exits soon after the last response');
      agent.destroy();
      await assert.rejects(request(server.port, qrPath('late')), { code: 'ECONNREFUSED' });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('start-up failures: bad flags exit 2 with one line; a tier that cannot start exits 1', BOUNDED, async () => {
  for (const args of [
    ['--tier', 'tier-0', '--bogus'],
    ['--tier', 'tier-9'],
    ['--mode', 'single'],
    ['--tier', 'tier-0', '--mode', 'both'],
    ['--tier', 'tier-0', '--engine', 'article'],
    ['--tier', 'tier-0', '--workers', '2'],
    ['--tier', 'tier-0', '--mode', 'cluster', '--workers', '0'],
    ['--tier', 'tier-0', '--port', '70000'],
    ['--tier', 'tier-0', 'positional'],
  ]) {
    const run = spawnSync(process.execPath, [SERVER_JS, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^server\.js: [^\n]+\n$/, args.join(' '));
  }
  for (const mode of [['--mode', 'single'], ['--mode', 'cluster', '--workers', '2']]) {
    const run = spawnSync(process.execPath, [SERVER_JS, '--tier', 'tier-1', ...mode, '--port', '0'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, RUSTY_QR_CLI: '/nonexistent/qr-cli' },
    });
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /qr-cli not found at \/nonexistent\/qr-cli: run `cargo xtask build`/);
  }
});
