// Tests of tier-1-sidecar: the real `qr-cli --serve` in-process (bytes, the image options in the frame's record,
// bad input, concurrency, the bound, deaths), a fake
// sidecar for what the real one never does (late, silent, malformed, stray answers), and a real HTTP server whose
// sidecar is killed with SIGKILL under load. Run with `npm test` (in node/); needs target/release/qr-cli
// (`cargo build --release -p qr-cli`, or set RUSTY_QR_CLI).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { decodeQrPng } = require('./support/qr-decode');
const contract = require('./support/contract');
const { OPTION_SETS, OPTION_TEXTS, DEFAULTS_GIVEN, TOO_SMALL, REFUSED, isSvg, assertBadInput } = require('./support/rust-tier-suite');
const { startServer, request } = require('./support/server-process');
const tier1 = require('../tiers/tier-1');
const sidecar = require('../tiers/tier-1-sidecar');

const BOUNDED = { timeout: 120_000 };
const ALL_TEXTS = contract.allTexts();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function requireCli() {
  assert.ok(fs.existsSync(tier1.CLI), `needs qr-cli at ${tier1.CLI}: run \`cargo build --release -p qr-cli\` or set RUSTY_QR_CLI`);
}

/** The engine names, from the sidecar's own unknown-engine message (so the list is never kept in JS). */
async function engineNames() {
  const err = await sidecar.generateQrCode('x', 'no-such-engine').then(() => assert.fail('no error'), (e) => e);
  const match = /expected one of: ([^)]*)\)/.exec(err.message);
  assert.ok(match, err.message);
  return match[1].split(',').map((name) => name.trim());
}

/** Whether process `pid` is gone. */
function gone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
}

async function until(condition, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `${what} within ${ms} ms`);
    await sleep(20);
  }
}

test('tier-1-sidecar: the same bytes as qr-cli for every contract text, with the default engine and each engine', BOUNDED, async () => {
  requireCli();
  const engines = [undefined, ...(await engineNames())];
  assert.ok(engines.includes('article') && engines.includes('fast'));
  for (const engine of engines) {
    const pngs = await Promise.all(ALL_TEXTS.map((text) => sidecar.generateQrCode(text, engine)));
    for (const [i, text] of ALL_TEXTS.entries()) {
      const what = `${JSON.stringify(text.slice(0, 30))}, engine ${engine}`;
      // tier-1 spawns qr-cli once per text: its bytes are the binary's.
      assert.ok(pngs[i].equals(await tier1.generateQrCode(text, engine)), `qr-cli's bytes for ${what}`);
      assert.deepEqual(decodeQrPng(pngs[i]), Buffer.from(text, 'utf8'), `decoded ${what}`);
    }
  }
  // null is the default engine, as undefined.
  assert.ok((await sidecar.generateQrCode('x', null)).equals(await tier1.generateQrCode('x', undefined)));
});

test('tier-1-sidecar: the options record gives the same bytes as qr-cli\'s flags (tier-1), SVG included, all in flight at once', BOUNDED, async () => {
  requireCli();
  for (const engine of [undefined, ...(await engineNames())]) {
    const asked = OPTION_SETS.flatMap((options) => OPTION_TEXTS.map((text) => [text, options]));
    const images = await Promise.all(asked.map(([text, options]) => sidecar.generateQrCode(text, engine, options)));
    for (const [i, [text, options]] of asked.entries()) {
      const what = `${JSON.stringify(text)}, engine ${engine}, ${JSON.stringify(options)}`;
      assert.equal(isSvg(images[i]), options.format === 'svg', what);
      assert.ok(images[i].equals(await tier1.generateQrCode(text, engine, options)), `qr-cli's bytes for ${what}`);
    }
    const none = await sidecar.generateQrCode('hello', engine);
    for (const options of [{}, null, DEFAULTS_GIVEN]) {
      assert.ok(none.equals(await sidecar.generateQrCode('hello', engine, options)), `${JSON.stringify(options)}, engine ${engine}`);
    }
  }
});

test('tier-1-sidecar: bad input is status 1 -> BAD_INPUT with the contract\'s message; the sidecar serves on', BOUNDED, async () => {
  requireCli();
  const generate = sidecar.createGenerator();
  await assertBadInput(() => generate(TOO_SMALL.text, 'fast', TOO_SMALL.options), TOO_SMALL.message, 'too small');
  // What the server never sends: the record carries a byte the sidecar refuses, or a number out of bounds.
  for (const [options, message] of REFUSED) {
    await assertBadInput(() => generate('hello', 'fast', options), message, JSON.stringify(options));
  }
  assert.equal(generate.pids().length, 1, 'the same sidecar throughout');
  assert.deepEqual(decodeQrPng(await generate('still fine', 'fast')), Buffer.from('still fine'));
});

test('tier-1-sidecar: many concurrent requests on one sidecar each get their own PNG', BOUNDED, async () => {
  requireCli();
  const generate = sidecar.createGenerator();
  const texts = Array.from({ length: 200 }, (_, i) => `request ${i} ${'x'.repeat(i % 40)}`);
  const pngs = await Promise.all(texts.map((text) => generate(text, 'fast')));
  for (const [i, png] of pngs.entries()) assert.deepEqual(decodeQrPng(png), Buffer.from(texts[i]));
  assert.equal(generate.pids().length, 1, 'one sidecar for one engine');
});

test('tier-1-sidecar: past the in-flight bound a request is BUSY at once; then it serves again', BOUNDED, async () => {
  requireCli();
  const generate = sidecar.createGenerator({ maxInFlight: 4 });
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => generate(`bound ${i}`, 'fast')));
  const busy = results.filter((r) => r.status === 'rejected');
  assert.equal(busy.length, 16);
  for (const { reason } of busy) {
    assert.equal(reason.code, 'BUSY');
    assert.equal(reason.message, 'qr-cli --serve has 4 requests in flight');
  }
  assert.deepEqual(decodeQrPng(results[3].value), Buffer.from('bound 3'));
  assert.deepEqual(decodeQrPng(await generate('after', 'fast')), Buffer.from('after'));
  assert.equal(sidecar.MAX_IN_FLIGHT >= 100, true, 'the default bound is above the benchmark\'s 100 connections');
});

test('tier-1-sidecar: core errors keep the core message; an unknown engine fails with clap\'s line', BOUNDED, async () => {
  requireCli();
  const generate = sidecar.createGenerator();
  await assertBadInput(() => generate('', 'fast'), 'missing "text" query param', 'empty');
  await assertBadInput(() => generate('a'.repeat(513), 'fast'), 'text must be <= 512 bytes', '513 bytes');
  await assert.rejects(generate('x', 'no-such-engine'), (err) => {
    assert.match(err.message, /^qr-cli --serve exited with status 2: error: invalid value 'no-such-engine' for '--engine <ENGINE>': unknown engine "no-such-engine"/);
    assert.notEqual(err.code, 'BUSY');
    return true;
  });
  assert.deepEqual(decodeQrPng(await generate('still fine', 'fast')), Buffer.from('still fine'));
});

test('tier-1-sidecar: a missing binary is a clear error, not BUSY', async () => {
  const generate = sidecar.createGenerator({ cli: '/nonexistent/qr-cli' });
  await assert.rejects(generate('x', undefined), (err) => {
    assert.match(err.message, /^qr-cli not found at \/nonexistent\/qr-cli: run `cargo xtask build`/);
    assert.notEqual(err.code, 'BUSY');
    return true;
  });
});

test('tier-1-sidecar: a killed sidecar fails its in-flight requests; the next request starts a new one', BOUNDED, async () => {
  requireCli();
  const generate = sidecar.createGenerator();
  await generate('warm up', 'article');
  const [pid] = generate.pids();
  const inFlight = Array.from({ length: 40 }, (_, i) => generate(`in flight ${i}`, 'article'));
  process.kill(pid, 'SIGKILL');
  const results = await Promise.allSettled(inFlight);
  const failed = results.filter((r) => r.status === 'rejected');
  assert.ok(failed.length > 0, 'some were still in flight');
  for (const { reason } of failed) assert.equal(reason.message, 'qr-cli --serve was killed by SIGKILL');
  for (const r of results) if (r.status === 'fulfilled') assert.ok(Buffer.isBuffer(r.value));
  assert.deepEqual(decodeQrPng(await generate('after the kill', 'article')), Buffer.from('after the kill'));
  const [newPid] = generate.pids();
  assert.notEqual(newPid, pid);
});

// A fake sidecar for what the real one never does. It speaks the protocol (a request's payload: the 16-byte options
// record, then the text) and answers each text with its own bytes as the "PNG", except: `slow` after 600 ms,
// `silent` never, `garbage` with an oversized frame, `stray` with an id nobody asked, `die` by exiting 3, `say` with
// a stderr line first.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rusty-qr-sidecar-'));
test.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
const FAKE = path.join(scratch, 'fake-qr-cli');
fs.writeFileSync(
  FAKE,
  `#!${process.execPath}
'use strict';
let buffer = Buffer.alloc(0);
const answer = (id, body) => {
  const frame = Buffer.alloc(9 + body.length);
  frame.writeUInt32LE(5 + body.length, 0);
  frame.writeUInt32LE(id * 2 + 1, 4);
  body.copy(frame, 9);
  process.stdout.write(frame);
};
process.stdin.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  while (buffer.length >= 8 && buffer.length >= 4 + buffer.readUInt32LE(0)) {
    const len = buffer.readUInt32LE(0);
    const id = buffer.readUInt32LE(4) >>> 1;
    const text = buffer.subarray(8 + 16, 4 + len);
    buffer = buffer.subarray(4 + len);
    switch (text.toString()) {
      case 'slow': setTimeout(() => answer(id, text), 600); break;
      case 'silent': break;
      case 'garbage': process.stdout.write(Buffer.from([0xff, 0xff, 0xff, 0xff])); break;
      case 'stray': answer(id + 1000, text); break;
      case 'die': process.exit(3);
      case 'say': process.stderr.write('hello from the sidecar\\n'); answer(id, text); break;
      default: answer(id, text);
    }
  }
});
`,
  { mode: 0o755 },
);

test('tier-1-sidecar (fake): the first request not answered within the timeout kills the sidecar and fails every request on it at once; the next starts a fresh one', BOUNDED, async () => {
  const generate = sidecar.createGenerator({ cli: FAKE, timeoutMs: 300 });
  assert.deepEqual(await generate('first', undefined), Buffer.from('first'));
  const [pid] = generate.pids();
  const silent = generate('silent', undefined);
  await sleep(100);
  const slow = generate('slow', undefined); // sent later on the same sidecar: fails with it, at the same moment
  const answered = generate('quick', undefined); // answered before the timeout: kept
  assert.deepEqual(await answered, Buffer.from('quick'));
  const [first, later] = await Promise.allSettled([silent, slow]);
  assert.match(String(first.reason), /^Error: qr-cli --serve did not answer within 300 ms: killed$/);
  assert.equal(later.reason, first.reason, 'the later request failed with the first, at its timeout');
  await until(() => gone(pid), 'the hung sidecar is gone');
  assert.deepEqual(await generate('replaced', undefined), Buffer.from('replaced'));
  assert.notDeepEqual(generate.pids(), [pid]);
});

test('tier-1-sidecar (fake): a malformed frame or a stray id kills the sidecar (SIGKILL), fails what was in flight, and it is replaced', BOUNDED, async () => {
  for (const [text, reason] of [
    ['garbage', /^Error: qr-cli --serve sent a malformed frame \(frame length 4294967295 is above 1048576\): killed$/],
    ['stray', /^Error: qr-cli --serve answered request \d+, which is not in flight: killed$/],
  ]) {
    const generate = sidecar.createGenerator({ cli: FAKE });
    assert.deepEqual(await generate('first', undefined), Buffer.from('first'));
    const [pid] = generate.pids();
    const other = generate('slow', undefined);
    await assert.rejects(generate(text, undefined), reason);
    await assert.rejects(other, reason);
    await until(() => gone(pid), `the sidecar that sent ${text} is gone`);
    assert.deepEqual(await generate('replaced', undefined), Buffer.from('replaced'));
  }
});

test('tier-1-sidecar (fake): repeated quick deaths back off, failing fast (500, not BUSY), then start again', BOUNDED, async () => {
  const generate = sidecar.createGenerator({ cli: FAKE });
  await assert.rejects(generate('die', undefined), /^Error: qr-cli --serve exited with status 3$/);
  // The first death restarts at once.
  await assert.rejects(generate('die', undefined), /^Error: qr-cli --serve exited with status 3$/);
  // The second quick death in a row: 100 ms of failing fast.
  await assert.rejects(generate('x', undefined), (err) => {
    assert.match(err.message, /^qr-cli --serve died 2 times in a row \(last: qr-cli --serve exited with status 3\); next start in \d+ ms$/);
    assert.notEqual(err.code, 'BUSY');
    return true;
  });
  await sleep(150);
  assert.deepEqual(await generate('x', undefined), Buffer.from('x'));
});

test('tier-1-sidecar (fake): stderr lines are forwarded with a prefix, and an idle sidecar does not keep Node alive', BOUNDED, () => {
  const program = `
    const { createGenerator } = require(${JSON.stringify(require.resolve('../tiers/tier-1-sidecar'))});
    const generate = createGenerator({ cli: ${JSON.stringify(FAKE)} });
    generate('say', undefined).then((body) => console.log('pid ' + generate.pids()[0] + ' ' + body));
  `;
  // Exits by itself: the sidecar, idle, holds no reference on the event loop.
  const run = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, run.stderr);
  const [, pid] = /^pid (\d+) say\n$/.exec(run.stdout) ?? assert.fail(run.stdout);
  assert.equal(run.stderr, `[qr-cli --serve ${pid}] hello from the sidecar\n`, 'only the forwarded line (no death)');
});

/** The `qr-cli --serve` children of process `pid` (/proc/PID/task/TID/children). */
function sidecarsOf(pid) {
  const children = fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean));
  return children.map(Number).filter((child) => {
    try {
      return fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').includes('--serve');
    } catch {
      return false; // gone meanwhile
    }
  });
}

test('tier-1-sidecar over HTTP: SIGKILL to the sidecar under load fails at most the requests in flight (500); it keeps serving; SIGTERM -> 0', BOUNDED, async (t) => {
  requireCli();
  const server = await startServer(['--tier', 'tier-1-sidecar', '--mode', 'single']);
  const CLIENTS = 16;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const statuses = []; // [status, body, afterKill]
  let killedAt = null;
  try {
    const [pid] = sidecarsOf(server.child.pid);
    assert.ok(pid, 'the server has a sidecar after its self-check');
    let done = 0;
    const client = async (c) => {
      for (let i = 0; done < 800; i++) {
        const text = `client ${c} request ${i}`;
        const res = await request(server.port, contract.qrPath(text), { agent });
        done += 1;
        statuses.push([res.status, res.status === 200 ? text : res.body.toString(), killedAt !== null]);
        if (res.status === 200) assert.deepEqual(decodeQrPng(res.body), Buffer.from(text));
        if (done === 200 && killedAt === null) {
          killedAt = done;
          process.kill(pid, 'SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const failures = statuses.filter(([status]) => status !== 200);
    t.diagnostic(`${failures.length} of ${statuses.length} requests failed`);
    for (const [status, body] of failures) assert.deepEqual([status, body], [500, 'failed to generate qr code']);
    // At most one request per client was in flight when the sidecar died.
    assert.ok(failures.length <= CLIENTS, `${failures.length} failures`);
    // Once a new sidecar started, everything succeeds again: the last 100 answers are all 200.
    assert.deepEqual(statuses.slice(-100).filter(([status]) => status !== 200), []);
    assert.ok(gone(pid), 'the killed sidecar is gone');
    const now = sidecarsOf(server.child.pid);
    assert.equal(now.length, 1, 'one new sidecar');
    assert.notEqual(now[0], pid);
  } finally {
    agent.destroy();
    assert.equal(await server.stop('SIGTERM'), 0, server.stderr());
  }
  assert.match(server.stderr(), new RegExp(`\\[qr-cli --serve \\d+\\] died: qr-cli --serve was killed by SIGKILL \\(\\d+ request`));
});
