// In-process tests of tier-3 (crates/qr-napi, the napi-rs addon): the shared suite, plus the addon's
// generateAsync export (the libuv thread pool variant). Run with `npm test` (in node/); needs node/build/.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { defineRustTierSuite, TEXTS } = require('../testing/rust-tiers');
const { decodeQrPng } = require('../testing/qr-decode');
const tier3 = require('../tiers/tier-3');

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

test("tier-3 addon: generateAsync rejects with the core's message", async () => {
  await assert.rejects(addon.generateAsync('x', 'nope'), { message: /^unknown engine "nope" \(expected one of: / });
  await assert.rejects(addon.generateAsync(''), { message: 'missing "text" query param' });
  await assert.rejects(addon.generateAsync('a'.repeat(513)), { message: 'text must be <= 512 bytes' });
});
