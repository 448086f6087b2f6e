// Test helper: the checks every in-process Rust tier (tier-2, tier-2-bindgen, tier-3) must pass, as one suite.
// Used by node/tests/tier-2.test.js, tier-2-bindgen.test.js and tier-3.test.js (`npm test`); not a test file itself.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { decodeQrPng, assertReadsBack } = require('./qr-decode');
const contract = require('./contract');

/** The in-process Rust tiers; each must give the same bytes as the others for the same text and engine. */
const RUST_TIERS = ['tier-2', 'tier-2-bindgen', 'tier-3'];
/** Every text of the contract's sets: the article's, the edge cases, and the scripts a scanner must show right. */
const TEXTS = contract.allTexts();
const { CLI } = require('../../tiers/tier-1');

/** Loads node/tiers/<name>.js; a missing build output fails with the command that makes it. */
function loadTier(name) {
  try {
    return require(path.join(__dirname, '..', '..', 'tiers', `${name}.js`));
  } catch (err) {
    throw new Error(`cannot load ${name} (run \`cargo xtask build\` to make node/build/): ${err.message}`);
  }
}

/** The engine names, from the binding's own unknown-engine message (so the list is never kept in JS). */
function engineNames(tier) {
  assert.throws(() => tier.generateQrCode('x', 'no-such-engine'), Error);
  try {
    tier.generateQrCode('x', 'no-such-engine');
  } catch (err) {
    const match = /expected one of: ([^)]*)\)/.exec(err.message);
    assert.ok(match, `the unknown-engine message lists the engines: ${err.message}`);
    return match[1].split(',').map((name) => name.trim());
  }
  return [];
}

/** The PNG from the qr-cli binary (tier-1's program). */
function cliPng(text, engine) {
  const args = engine === undefined ? ['-'] : ['--engine', engine, '-'];
  const run = spawnSync(CLI, args, { input: Buffer.from(text, 'utf8'), maxBuffer: 1 << 20 });
  assert.equal(run.status, 0, `qr-cli failed: ${run.stderr}`);
  return run.stdout;
}

/** Registers the shared tests for the tier `name`. */
function defineRustTierSuite(name) {
  const tier = loadTier(name);
  const others = RUST_TIERS.filter((other) => other !== name).map((other) => [other, loadTier(other)]);

  test(`${name}: every text reads back as itself (jsqr bytes, ZXing text), with every engine, the same bytes as the other Rust tiers`, async () => {
    const engines = [undefined, ...engineNames(tier)];
    assert.ok(engines.includes('article'));
    assert.ok(fs.existsSync(CLI), `parity with qr-cli needs it at ${CLI}: run \`cargo xtask build\` or set RUSTY_QR_CLI`);
    for (const engine of engines) {
      for (const text of TEXTS) {
        const what = `${JSON.stringify(text.slice(0, 30))} (${Buffer.byteLength(text)} bytes), engine ${engine}`;
        const png = tier.generateQrCode(text, engine);
        await assertReadsBack(png, text, what);
        for (const [otherName, other] of others) {
          assert.ok(png.equals(other.generateQrCode(text, engine)), `${name} and ${otherName} differ for ${what}`);
        }
        assert.ok(png.equals(cliPng(text, engine)), `${name} and qr-cli differ for ${what}`);
      }
    }
  });

  test(`${name}: the returned Buffer is a copy that later calls do not change`, () => {
    const first = tier.generateQrCode('first text', undefined);
    const snapshot = Buffer.from(first);
    for (let i = 0; i < 50; i++) tier.generateQrCode(`later text ${i} ${'x'.repeat(i * 9)}`, undefined);
    assert.deepEqual(first, snapshot);
    assert.deepEqual(decodeQrPng(first), Buffer.from('first text'));
  });

  test(`${name}: failures throw an Error with the core's message`, () => {
    const message = (text, engine) => {
      try {
        tier.generateQrCode(text, engine);
      } catch (err) {
        assert.ok(err instanceof Error);
        return err.message;
      }
      assert.fail(`no error for ${JSON.stringify(text.slice(0, 20))}, engine ${engine}`);
    };
    assert.match(message('x', 'nope'), /^unknown engine "nope" \(expected one of: .*\barticle\b.*\)$/);
    assert.match(message('x', ''), /^unknown engine "" \(expected one of: /);
    assert.match(message('x', 'Article'), /^unknown engine "Article" /);
    // The server validates first, but the binding still passes the core's own messages through.
    assert.equal(message('', undefined), 'missing "text" query param');
    assert.equal(message('a'.repeat(513), undefined), 'text must be <= 512 bytes');
    assert.equal(message('é'.repeat(257), 'article'), 'text must be <= 512 bytes');
    // null, like undefined, means the core's default engine.
    assert.ok(tier.generateQrCode('x', null).equals(tier.generateQrCode('x', undefined)));
    // ... and works normally afterwards.
    assert.deepEqual(decodeQrPng(tier.generateQrCode('after errors', undefined)), Buffer.from('after errors'));
  });
}

module.exports = { defineRustTierSuite, loadTier, TEXTS };
