// In-process tests of tier-1 (one qr-cli process per request): every contract text reads back as itself with each
// engine, the image options as flags (the same bytes as tier-3's napi object; bad input as BAD_INPUT), concurrent
// requests, and binaries that misbehave (noisy, failing, silent, exiting early, stuck, out of file descriptors).
// Run with `npm test` (in node/); needs target/release/qr-cli and node/build/ (`cargo xtask build`).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { assertReadsBack, pngSize } = require('./support/qr-decode');
const contract = require('./support/contract');
const { OPTION_SETS, OPTION_TEXTS, DEFAULTS_GIVEN, TOO_SMALL, REFUSED, isSvg, assertBadInput } = require('./support/rust-tier-suite');
const tier1 = require('../tiers/tier-1');

const ALL_TEXTS = contract.allTexts();

/** Fails with a clear message when the real binary is missing (no stand-in is ever used for these). */
function requireCli() {
  assert.ok(
    fs.existsSync(tier1.CLI),
    `tier-1 tests need the qr-cli binary at ${tier1.CLI}: run \`cargo xtask build\` ` +
      '(or `cargo build --release -p qr-cli`), or set RUSTY_QR_CLI',
  );
}

/** The engine names, from the binary itself (so the list is never kept in JS). */
function engineNames() {
  const run = spawnSync(tier1.CLI, ['--engine', 'no-such-engine', 'x'], { encoding: 'utf8' });
  const match = /expected one of: ([^)]*)\)/.exec(run.stderr);
  assert.ok(match, `qr-cli's unknown-engine message lists the engines: ${run.stderr}`);
  return match[1].split(',').map((name) => name.trim());
}

test('tier-1: every text decodes back, with the default engine and with each engine', async () => {
  requireCli();
  const engines = [undefined, ...engineNames()];
  for (const engine of engines) {
    for (const text of ALL_TEXTS) {
      const png = await tier1.generateQrCode(text, engine);
      await assertReadsBack(png, text);
      const { width } = pngSize(png);
      assert.ok(width >= 200, `at least 200 px wide, got ${width}`);
    }
  }
});

test('tier-1: no options are no flags at all; each option given is one --flag=value, ecLevel as --ec-level', () => {
  for (const none of [undefined, null, {}, { size: undefined }]) {
    assert.deepEqual(tier1.cliArgs(undefined, none), ['-']);
    assert.deepEqual(tier1.cliArgs('article', none), ['--engine', 'article', '-']);
  }
  assert.deepEqual(tier1.cliArgs('fast', { format: 'svg', size: 300, ecLevel: 'H', light: 'ffffff00' }), [
    '--engine', 'fast', '--format=svg', '--size=300', '--ec-level=H', '--light=ffffff00', '-',
  ]);
});

test('tier-1: image options as flags give the same bytes as tier-3 (the napi object), SVG included', async () => {
  requireCli();
  const tier3 = require('../tiers/tier-3');
  for (const engine of [undefined, ...engineNames()]) {
    for (const options of OPTION_SETS) {
      for (const text of OPTION_TEXTS) {
        const what = `${JSON.stringify(text)}, engine ${engine}, ${JSON.stringify(options)}`;
        const image = await tier1.generateQrCode(text, engine, options);
        assert.equal(isSvg(image), options.format === 'svg', what);
        assert.ok(image.equals(tier3.generateQrCode(text, engine, options)), `tier-1 and tier-3 differ for ${what}`);
      }
    }
    const none = await tier1.generateQrCode('hello', engine);
    assert.ok(none.equals(await tier1.generateQrCode('hello', engine, {})), `{}, engine ${engine}`);
    assert.ok(none.equals(await tier1.generateQrCode('hello', engine, DEFAULTS_GIVEN)), `the defaults given, engine ${engine}`);
  }
});

test("tier-1: bad input is exit status 1 -> BAD_INPUT with qr-cli's line, the contract's message", async () => {
  requireCli();
  await assertBadInput(() => tier1.generateQrCode(TOO_SMALL.text, 'fast', TOO_SMALL.options), TOO_SMALL.message, 'too small');
  for (const [options, message] of REFUSED) {
    await assertBadInput(() => tier1.generateQrCode('hello', 'fast', options), message, JSON.stringify(options));
  }
  await assertBadInput(() => tier1.generateQrCode('', undefined), 'missing "text" query param', 'empty text');
});

test('tier-1: concurrent requests each get their own PNG', async () => {
  requireCli();
  const texts = Array.from({ length: 16 }, (_, i) => `request ${i} ${'x'.repeat(i * 20)}`);
  const pngs = await Promise.all(texts.map((text) => tier1.generateQrCode(text, undefined)));
  for (const [i, png] of pngs.entries()) await assertReadsBack(png, texts[i]);
});

test('tier-1: an unknown engine fails with the core message (a failure: exit status 2, not bad input)', async () => {
  requireCli();
  await assert.rejects(tier1.generateQrCode('x', 'no-such-engine'), (err) => {
    assert.match(err.message, /unknown engine "no-such-engine"/);
    assert.equal(err.code, undefined);
    return true;
  });
});

test('tier-1: a missing binary is a clear error, not a crash', async () => {
  const generate = tier1.createGenerator({ cli: '/nonexistent/qr-cli' });
  await assert.rejects(generate('x', undefined), (err) => {
    assert.match(err.message, /qr-cli not found at \/nonexistent\/qr-cli: run `cargo xtask build`/);
    assert.notEqual(err.code, 'BUSY');
    return true;
  });
});

// Failure injection: small shell scripts that misbehave the way a real binary can, wrapping the real one.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rusty-qr-tier1-'));
test.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
function script(name, body) {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

test('tier-1: success is judged by exit status, not by stderr', async () => {
  requireCli();
  const noisy = script('noisy', `echo "warning: something odd" >&2\nexec "${tier1.CLI}" "$@"`);
  await assertReadsBack(await tier1.createGenerator({ cli: noisy })('noisy', undefined), 'noisy');

  const refusing = script('refusing', 'cat > /dev/null\necho "text must be <= 512 bytes" >&2\nexit 1');
  await assertBadInput(() => tier1.createGenerator({ cli: refusing })('x', undefined), 'text must be <= 512 bytes', 'exit 1');

  // Exit 3 is a failure (500), whatever its line says; exit 1 with nothing to say is one too.
  const failing = script('failing', 'cat > /dev/null\necho "failed to generate qr code" >&2\nexit 3');
  await assert.rejects(tier1.createGenerator({ cli: failing })('x', undefined), (err) => {
    assert.equal(err.message, 'failed to generate qr code');
    assert.equal(err.code, undefined);
    return true;
  });
  const mute = script('mute', 'cat > /dev/null\nexit 1');
  await assert.rejects(tier1.createGenerator({ cli: mute })('x', undefined), (err) => {
    assert.equal(err.message, 'qr-cli exited with status 1');
    assert.equal(err.code, undefined);
    return true;
  });

  // exit 0 with nothing on stdout is not a PNG
  const silent = script('silent', 'cat > /dev/null\nexit 0');
  await assert.rejects(tier1.createGenerator({ cli: silent })('x', undefined), /exited with status 0/);
});

test('tier-1: a child that does not read stdin or exits early does not crash the host', async () => {
  // exits at once without reading: writing the text may hit EPIPE
  const early = script('early', 'exit 3');
  const long = 'z'.repeat(512);
  for (let i = 0; i < 20; i++) {
    await assert.rejects(tier1.createGenerator({ cli: early })(long, undefined), /exited with status 3/);
  }
});

test('tier-1: a stuck child is killed after the timeout', async () => {
  const stuck = script('stuck', 'exec sleep 30');
  const started = Date.now();
  await assert.rejects(
    tier1.createGenerator({ cli: stuck, timeoutMs: 300 })('x', undefined),
    /did not finish within 300 ms and was killed/,
  );
  assert.ok(Date.now() - started < 5_000, 'rejected soon after the timeout');
});

test('tier-1: running out of file descriptors is BUSY (503), and recovers', () => {
  requireCli();
  // A child node process with a low descriptor limit fills its table, then asks tier-1 for a PNG.
  const program = `
    const fs = require('node:fs');
    const tier1 = require(${JSON.stringify(require.resolve('../tiers/tier-1'))});
    const held = [];
    try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch (err) { if (err.code !== 'EMFILE') throw err; }
    tier1.generateQrCode('x', undefined).then(
      () => { console.log('ok'); },
      (err) => {
        console.log(err.code + ' ' + err.message);
        held.forEach((fd) => fs.closeSync(fd));
        return tier1.generateQrCode('x', undefined).then((png) => console.log('then ' + png.length));
      });
  `;
  const run = spawnSync('sh', ['-c', `ulimit -n 64 && exec "${process.execPath}" -e "$0"`, program], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^BUSY cannot spawn qr-cli right now: E[MN]FILE\nthen \d+\n$/);
});
