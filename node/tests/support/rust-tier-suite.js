// Test helper: the checks every in-process Rust tier (tier-2, tier-2-bindgen, tier-3) must pass, as one suite, and
// the image options they and tier-1 are tested with. Used by node/tests/tier-1*.test.js, tier-2.test.js,
// tier-2-bindgen.test.js and tier-3.test.js (`npm test`); not a test file itself.
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
const { CLI, cliArgs } = require('../../tiers/tier-1');

/**
 * Image options as the server hands them to a tier (only those the request gave, validated and normalised by
 * node/http/query.js), covering every option and value kind: SVG, exact sizes, margins, each EC level, colours
 * with alpha. Each must give the same bytes through every boundary.
 */
const OPTION_SETS = [
  { format: 'svg' },
  { format: 'svg', size: 300, margin: 2, ecLevel: 'H', dark: '0b3d91ff', light: 'ffffff00' },
  { size: 1000, ecLevel: 'Q' },
  { margin: 0, dark: '0b3d9180' },
  { ecLevel: 'M', light: 'fffff0ff', size: 57 },
  { format: 'svg', margin: 20, ecLevel: 'L', dark: '00000000' },
];
/** Every option at its default, given: exactly the bytes of no options (docs/api.md). */
const DEFAULTS_GIVEN = { format: 'png', margin: 4, ecLevel: 'L', dark: '000000ff', light: 'ffffffff' };
/** Texts the option sets are drawn with: version 1 (21 modules) to version 3. */
const OPTION_TEXTS = ['hello', 'https://github.com/pretzelhammer/rust-blog', 'Grüße aus 東京 🦀'];
/** `hello` is version 1: with the default 4-module margin it needs 29 pixels (docs/api.md). */
const TOO_SMALL = { text: 'hello', options: { size: 28 }, message: '"size" must be at least 29 pixels for this text, ecLevel and margin' };
/** What the server never sends (it validates first), which the Rust side must refuse all the same. */
const REFUSED = [
  [{ format: 'gif' }, '"format" must be png or svg'],
  [{ size: 1001 }, '"size" must be a whole number of pixels from 21 to 1000'],
  [{ size: 20 }, '"size" must be a whole number of pixels from 21 to 1000'],
  [{ margin: 21 }, '"margin" must be a whole number of modules from 0 to 20'],
  [{ ecLevel: 'X' }, '"ecLevel" must be L, M, Q or H'],
  [{ size: -1 }, '"size" must be a whole number of pixels from 21 to 1000'],
  // The contract's order: format before size before margin.
  [{ margin: 21, size: 20, format: 'gif' }, '"format" must be png or svg'],
  [{ margin: 21, size: 20 }, '"size" must be a whole number of pixels from 21 to 1000'],
];

/** Whether `image` is an SVG document (else it must be a PNG). */
function isSvg(image) {
  return image.subarray(0, 5).toString('latin1') === '<svg ';
}

/** Asserts that `call` throws (or rejects with) bad input: `code: 'BAD_INPUT'` and exactly `message`. */
async function assertBadInput(call, message, what) {
  await assert.rejects(
    async () => call(),
    (err) => {
      assert.ok(err instanceof Error, what);
      assert.equal(err.code, 'BAD_INPUT', `${what}: ${err.message}`);
      assert.equal(err.message, message, what);
      return true;
    },
    what,
  );
}

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

/** The image from the qr-cli binary (tier-1's program, with tier-1's flags for the options). */
function cliImage(text, engine, options) {
  const run = spawnSync(CLI, cliArgs(engine, options), { input: Buffer.from(text, 'utf8'), maxBuffer: 1 << 20 });
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
        assert.ok(png.equals(cliImage(text, engine)), `${name} and qr-cli differ for ${what}`);
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

  test(`${name}: failures throw an Error with the core's message, bad input with code BAD_INPUT`, async () => {
    const error = (text, engine) => {
      try {
        tier.generateQrCode(text, engine);
      } catch (err) {
        assert.ok(err instanceof Error);
        return err;
      }
      assert.fail(`no error for ${JSON.stringify(text.slice(0, 20))}, engine ${engine}`);
    };
    const failure = (text, engine) => {
      const err = error(text, engine);
      assert.ok(!['BAD_INPUT', 'BUSY'].includes(err.code), `an unknown engine is a failure (500): ${err.code} ${err.message}`);
      return err.message;
    };
    assert.match(failure('x', 'nope'), /^unknown engine "nope" \(expected one of: .*\barticle\b.*\)$/);
    assert.match(failure('x', ''), /^unknown engine "" \(expected one of: /);
    assert.match(failure('x', 'Article'), /^unknown engine "Article" /);
    // The server validates first, but the binding still passes the core's own messages through, as bad input.
    await assertBadInput(() => tier.generateQrCode('', undefined), 'missing "text" query param', 'empty');
    await assertBadInput(() => tier.generateQrCode('a'.repeat(513), undefined), 'text must be <= 512 bytes', '513 bytes');
    await assertBadInput(() => tier.generateQrCode('é'.repeat(257), 'article'), 'text must be <= 512 bytes', '514 bytes');
    // null, like undefined, means the core's default engine.
    assert.ok(tier.generateQrCode('x', null).equals(tier.generateQrCode('x', undefined)));
    // ... and works normally afterwards.
    assert.deepEqual(decodeQrPng(tier.generateQrCode('after errors', undefined)), Buffer.from('after errors'));
  });

  test(`${name}: the same image options give the same bytes as the other Rust tiers and qr-cli's flags, SVG included`, () => {
    const engines = [undefined, ...engineNames(tier)];
    for (const engine of engines) {
      for (const options of OPTION_SETS) {
        for (const text of OPTION_TEXTS) {
          const what = `${JSON.stringify(text)}, engine ${engine}, ${JSON.stringify(options)}`;
          const image = tier.generateQrCode(text, engine, options);
          assert.ok(Buffer.isBuffer(image), what);
          assert.equal(isSvg(image), options.format === 'svg', `${what}: an SVG exactly when asked`);
          for (const [otherName, other] of others) {
            assert.ok(image.equals(other.generateQrCode(text, engine, options)), `${name} and ${otherName} differ for ${what}`);
          }
          assert.ok(image.equals(cliImage(text, engine, options)), `${name} and qr-cli differ for ${what}`);
        }
      }
      // No options, {}, null and every option at its default: the same bytes.
      const none = tier.generateQrCode('hello', engine);
      for (const options of [{}, null, { format: undefined }, DEFAULTS_GIVEN]) {
        assert.ok(none.equals(tier.generateQrCode('hello', engine, options)), `${JSON.stringify(options)}, engine ${engine}`);
      }
    }
  });

  test(`${name}: a size too small for the text is BAD_INPUT with the contract's message; the tier works on`, async () => {
    const { text, options, message } = TOO_SMALL;
    for (const engine of [undefined, ...engineNames(tier)]) {
      await assertBadInput(() => tier.generateQrCode(text, engine, options), message, `engine ${engine}`);
      const enough = tier.generateQrCode(text, engine, { size: 29 });
      assert.ok(enough.equals(cliImage(text, engine, { size: 29 })), '29 pixels are enough');
    }
    // A longer text at ecLevel H: the minimum grows with the symbol, and every tier says the same.
    const messages = new Set();
    for (const [, each] of [[name, tier], ...others]) {
      assert.throws(
        () => each.generateQrCode('a'.repeat(300), undefined, { size: 80, ecLevel: 'H' }),
        (err) => Boolean(messages.add(`${err.code}: ${err.message}`)),
      );
    }
    assert.equal(messages.size, 1, [...messages].join(' | '));
    assert.match([...messages][0], /^BAD_INPUT: "size" must be at least (\d+) pixels for this text, ecLevel and margin$/);
    assert.ok(Number(/least (\d+)/.exec([...messages][0])[1]) > 80);
    assert.deepEqual(decodeQrPng(tier.generateQrCode('after', undefined)), Buffer.from('after'));
  });

  test(`${name}: option values the server never sends are refused by the Rust side, as bad input`, async () => {
    for (const [options, message] of REFUSED) {
      await assertBadInput(() => tier.generateQrCode('hello', 'fast', options), message, JSON.stringify(options));
    }
  });
}

module.exports = {
  defineRustTierSuite,
  loadTier,
  TEXTS,
  OPTION_SETS,
  OPTION_TEXTS,
  DEFAULTS_GIVEN,
  TOO_SMALL,
  REFUSED,
  isSvg,
  assertBadInput,
};
