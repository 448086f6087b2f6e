// node/server.js as a black box, for what only the Node host does. The table of contract/cases.json and the faults
// every host shares run over HTTP in the lab (lab/qr-harness/tests/conformance/ and faults/), against every Node
// tier; here: stdout holds the ready line alone, SIGTERM and SIGINT (a terminal's Ctrl-C to a cluster's process
// group) exit 0 after in-flight requests, the flags and their errors, --max-connections, a body never read (the
// header timeout is the fault tests'), the primary replacing a killed worker, tier-1 with a binary gone, not
// executable or hung, and `--http fastify` in both modes.
// Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startServer, request, send, SERVER_JS } = require('./support/server-process');
const { decodeQrPng, assertReadsBack } = require('./support/qr-decode');
const contract = require('./support/contract');
const tier1 = require('../tiers/tier-1');

const { qrPath } = contract;
/** Every test here is bounded: a hung server fails the test instead of hanging `npm test`. */
const BOUNDED = { timeout: 120_000 };

/** GETs `urlPath` and checks that the answer is the contract's answer `key`; returns the response. */
async function expectError(port, urlPath, key) {
  const c = { name: key, method: 'GET', target: urlPath, expect: { answer: contract.answer(key) } };
  const res = await send(port, urlPath);
  await contract.check(c, res);
  return res;
}

/** GETs the QR code of `text` and checks that it is a PNG of `text`. */
async function expectQr(port, text) {
  await contract.check(contract.pngCase(text, text), await send(port, qrPath(text)), assertReadsBack);
}

/** Asserts that the server's stdout held one line, its ready line (in cluster mode too: once, not per worker). */
function assertOnlyReadyLine(server) {
  assert.equal(server.stdout(), `listening on http://127.0.0.1:${server.port}\n`);
}

/** The header names of the answer to a GET of `urlPath` (through `agent`, if given) as sent, in their case. */
function headerNamesAsSent(port, urlPath, agent = false) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.rawHeaders.filter((_, i) => i % 2 === 0)));
    }).on('error', reject);
  });
}

/** The first header names of a /healthz answer from fastify, which writes them in lower case (express as given). */
const FASTIFY_HEALTHZ_NAMES = ['content-type', 'content-length'];

test('--http fastify: answers, 503 past the bound, drains at SIGTERM; cluster workers run it too', BOUNDED, async () => {
  const server = await startServer(['--tier', 'tier-0', '--http', 'fastify', '--max-connections', '1']);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // The kept-alive connection holds the one place.
    assert.deepEqual((await headerNamesAsSent(server.port, '/healthz', agent)).slice(0, 2), FASTIFY_HEALTHZ_NAMES);
    const busy = await expectError(server.port, qrPath('second'), 'busy');
    assert.equal(busy.headers.connection, 'close');
    // Draining: the kept-alive connection's next request, within the 250 ms grace, is answered and closes it.
    const code = server.stop('SIGTERM');
    await server.waitForStderr(/SIGTERM: finishing/);
    const draining = await request(server.port, '/healthz', { agent });
    assert.equal(draining.status, 503);
    assert.equal(draining.body.toString(), 'draining');
    assert.equal(draining.headers.connection, 'close');
    assert.equal(await code, 0, server.stderr());
  } finally {
    agent.destroy();
  }
  assertOnlyReadyLine(server);

  const cluster = await startServer(['--tier', 'tier-0', '--mode', 'cluster', '--workers', '2', '--http', 'fastify']);
  try {
    for (let i = 0; i < 4; i++) {
      assert.deepEqual((await headerNamesAsSent(cluster.port, '/healthz')).slice(0, 2), FASTIFY_HEALTHZ_NAMES);
      await expectQr(cluster.port, `fastify ${i}`);
    }
  } finally {
    assert.equal(await cluster.stop('SIGTERM'), 0, cluster.stderr());
  }
  assertOnlyReadyLine(cluster);
});

test('a connection past --max-connections gets a 503 and is closed; its place frees up again', BOUNDED, async () => {
  const server = await startServer(['--tier', 'tier-0', '--max-connections', '1']);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // The one allowed connection, kept open by the agent.
    assert.equal((await request(server.port, qrPath('first'), { agent })).status, 200);
    // One more connection while it is open: turned away, whatever it asks.
    for (const urlPath of [qrPath('second'), '/qrcode']) {
      const res = await expectError(server.port, urlPath, 'busy');
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

test('a GET whose body trickles in is answered and its connection closed, not held open for the body', BOUNDED, async () => {
  const server = await startServer(['--tier', 'tier-0']);
  try {
    const started = Date.now();
    const { head, closedAfter } = await new Promise((resolve, reject) => {
      let data = '';
      const socket = net.connect(server.port, '127.0.0.1', () => {
        socket.write('GET /qrcode?text=body HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
      });
      // One byte of body every 100 ms, for as long as the connection stays open.
      const trickle = setInterval(() => socket.writable && socket.write('x'), 100);
      socket.on('data', (chunk) => (data += chunk.toString('latin1')));
      socket.on('error', () => {}); // a reset while trickling is a close too
      socket.on('close', () => {
        clearInterval(trickle);
        resolve({ head: data.slice(0, data.indexOf('\r\n')), closedAfter: Date.now() - started });
      });
      setTimeout(() => reject(new Error('still open after 30 s')), 30_000).unref();
    });
    assert.equal(head, 'HTTP/1.1 200 OK');
    // Before, Node waited for the body up to its 300 s requestTimeout.
    assert.ok(closedAfter < 9_000, `closed after ${closedAfter} ms`);
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
  assertOnlyReadyLine(server); // not printed again for the replacement
});

test('stdout holds the ready line alone; SIGTERM or SIGINT lets an in-flight request finish (tier-1 with a slow binary), then exit 0', BOUNDED, async () => {
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
      [['--mode', 'single', '--http', 'fastify'], 'SIGTERM', false],
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
      assertOnlyReadyLine(server);
      agent.destroy();
      await assert.rejects(request(server.port, qrPath('late')), { code: 'ECONNREFUSED' });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tier-1 over HTTP: a binary gone or not executable is a 500 and one log line; a hung child is killed at the timeout', BOUNDED, async () => {
  assert.ok(fs.existsSync(tier1.CLI), `needs qr-cli at ${tier1.CLI}: run \`cargo xtask build\``);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rusty-qr-faulty-'));
  const cli = path.join(dir, 'qr-cli');
  const hungPid = path.join(dir, 'hung.pid');
  // The real binary, except that the text "hang" hangs (writing its pid first).
  const wrapper = `#!/bin/sh\ntext=$(cat)\n[ "$text" = hang ] && echo $$ > "${hungPid}" && exec sleep 60\nprintf %s "$text" | exec "${tier1.CLI}" "$@"\n`;
  fs.writeFileSync(cli, wrapper, { mode: 0o755 });
  const server = await startServer(['--tier', 'tier-1'], { env: { RUSTY_QR_CLI: cli } });
  /** One request that must get the contract's 500 and add exactly one stderr line matching `line`. */
  const expectFailure = async (text, line) => {
    const before = server.stderr().length;
    await expectError(server.port, qrPath(text), 'failed');
    // The log line travels on its own pipe: it may arrive after the answer.
    await server.waitForStderr(new RegExp(line.source, 'm'));
    const added = server.stderr().slice(before).split('\n').filter(Boolean);
    assert.equal(added.length, 1, added.join('\n'));
    assert.match(added[0], line);
  };
  try {
    await expectQr(server.port, 'before');
    fs.chmodSync(cli, 0o644);
    await expectFailure('not executable', /^\[tier-1\] generating a qr code failed: cannot spawn .*qr-cli: spawn .* EACCES$/);
    fs.chmodSync(cli, 0o755);
    await expectQr(server.port, 'executable again');
    fs.renameSync(cli, `${cli}.away`);
    await expectFailure('missing', /^\[tier-1\] generating a qr code failed: qr-cli not found at .*qr-cli: run `cargo xtask build`/);
    fs.renameSync(`${cli}.away`, cli);
    await expectQr(server.port, 'back');

    const started = Date.now();
    await expectFailure('hang', new RegExp(`did not finish within ${tier1.TIMEOUT_MS} ms and was killed`));
    const took = Date.now() - started;
    assert.ok(took >= tier1.TIMEOUT_MS && took < tier1.TIMEOUT_MS + 3_000, `answered after ${took} ms`);
    const pid = Number(fs.readFileSync(hungPid, 'utf8'));
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the hung child is gone');
    await expectQr(server.port, 'after the hang');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
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
    ['--tier', 'tier-0', '--http', 'koa'],
    ['--tier', 'tier-0', '--http'],
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
