// In-process tests of tier-3 (crates/qr-napi, the napi-rs addon): the shared suite, the addon's generateAsync
// export and its errors' codes, and the two modules built on the same addon: tier-3-async (the libuv thread pool,
// with the image options too) and the Node host's benchmark ceiling. Run with `npm test` (in node/); needs
// node/build/.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { defineRustTierSuite, TEXTS, OPTION_SETS, OPTION_TEXTS, TOO_SMALL, REFUSED, assertBadInput } = require('./support/rust-tier-suite');
const { decodeQrPng } = require('./support/qr-decode');
const tier3 = require('../tiers/tier-3');
const tier3Async = require('../tiers/tier-3-async');
const nodeCeiling = require('../tiers/node-ceiling');

const addon = require(path.join(__dirname, '..', 'build', 'qr_napi.node'));

defineRustTierSuite('tier-3');

test('tier-3 addon: generateAsync resolves to the same Buffer as generate, many at once on the thread pool', async () => {
  const results = await Promise.all(TEXTS.map((text) => addon.generateAsync(text)));
  results.forEach((png, i) => {
    assert.ok(Buffer.isBuffer(png));
    assert.ok(png.equals(tier3.generateQrCode(TEXTS[i], undefined)), `text #${i}`);
    assert.deepEqual(decodeQrPng(png), Buffer.from(TEXTS[i], 'utf8'));
  });
  const named = await addon.generateAsync('engine by name', 'article');
  assert.ok(named.equals(addon.generate('engine by name', 'article')));
});

test("tier-3 addon: generateAsync rejects with the core's message; bad input has code InvalidArg", async () => {
  await assert.rejects(addon.generateAsync('x', 'nope'), { message: /^unknown engine "nope" \(expected one of: /, code: 'GenericFailure' });
  await assert.rejects(addon.generateAsync(''), { message: 'missing "text" query param', code: 'InvalidArg' });
  await assert.rejects(addon.generateAsync('a'.repeat(513)), { message: 'text must be <= 512 bytes', code: 'InvalidArg' });
  await assert.rejects(addon.generateAsync(TOO_SMALL.text, undefined, TOO_SMALL.options), { message: TOO_SMALL.message, code: 'InvalidArg' });
  assert.throws(() => addon.generate(TOO_SMALL.text, undefined, TOO_SMALL.options), { message: TOO_SMALL.message, code: 'InvalidArg' });
});

test('tier-3 addon: arguments of the wrong JS type are napi-rs\'s own errors, never InvalidArg (so never BAD_INPUT)', () => {
  const codes = [
    () => addon.generate(42),
    () => addon.generate('x', 5),
    () => addon.generate('x', undefined, { size: '300' }),
    () => addon.generate('x', undefined, { format: 3 }),
  ].map((call) => {
    try {
      call();
    } catch (err) {
      return err.code;
    }
    return 'no error';
  });
  assert.deepEqual(codes, ['StringExpected', 'StringExpected', 'NumberExpected', 'StringExpected']);
  assert.throws(() => tier3.generateQrCode('x', undefined, { size: '300' }), (err) => err.code === 'NumberExpected');
});

test('tier-3-async: the same bytes as tier-3 for every text and engine, all in flight at once', async () => {
  for (const engine of [undefined, 'article', 'fast']) {
    const pending = TEXTS.map((text) => tier3Async.generateQrCode(text, engine));
    assert.ok(pending.every((p) => p instanceof Promise));
    const results = await Promise.all(pending);
    results.forEach((png, i) => assert.ok(png.equals(tier3.generateQrCode(TEXTS[i], engine)), `text #${i}, ${engine}`));
  }
  await assert.rejects(tier3Async.generateQrCode('x', 'nope'), { message: /^unknown engine "nope"/, code: 'GenericFailure' });
});

test('tier-3-async: the image options give tier-3\'s bytes; bad input rejects with BAD_INPUT', async () => {
  const asked = OPTION_SETS.flatMap((options) => OPTION_TEXTS.map((text) => [text, options]));
  const images = await Promise.all(asked.map(([text, options]) => tier3Async.generateQrCode(text, 'fast', options)));
  asked.forEach(([text, options], i) => {
    assert.ok(images[i].equals(tier3.generateQrCode(text, 'fast', options)), `${text}, ${JSON.stringify(options)}`);
  });
  await assertBadInput(() => tier3Async.generateQrCode(TOO_SMALL.text, undefined, TOO_SMALL.options), TOO_SMALL.message, 'too small');
  for (const [options, message] of REFUSED) {
    await assertBadInput(() => tier3Async.generateQrCode('hello', 'fast', options), message, JSON.stringify(options));
  }
});

test("node-ceiling: one PNG of its text per engine, whatever the request's text", () => {
  for (const engine of [undefined, 'article']) {
    const first = nodeCeiling.generateQrCode('rusty-qr', engine);
    assert.ok(first.equals(tier3.generateQrCode(nodeCeiling.CEILING_TEXT, engine)));
    assert.equal(nodeCeiling.generateQrCode('any other text', engine), first, 'the same Buffer, not a new one');
    assert.deepEqual(decodeQrPng(first), Buffer.from(nodeCeiling.CEILING_TEXT, 'utf8'));
  }
  assert.ok(!nodeCeiling.generateQrCode('x', 'article').equals(nodeCeiling.generateQrCode('x', 'fast')));
  assert.throws(() => nodeCeiling.generateQrCode('x', 'nope'), { message: /^unknown engine "nope"/ });
});
