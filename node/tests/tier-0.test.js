// In-process tests of tier-0 (npm qrcode, pure JS): every contract text reads back as itself, at the article's
// 200 x 200 px, and the same text gives the same bytes. Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { assertReadsBack, pngSize } = require('./support/qr-decode');
const contract = require('./support/contract');
const tier0 = require('../tiers/tier-0');

test('tier-0: every text decodes back, 200 x 200 px', async () => {
  for (const text of contract.allTexts()) {
    const png = await tier0.generateQrCode(text, undefined);
    await assertReadsBack(png, text);
    assert.deepEqual(pngSize(png), { width: 200, height: 200 });
  }
});

test('tier-0: the same text gives the same bytes', async () => {
  const [a, b] = await Promise.all([tier0.generateQrCode('same', undefined), tier0.generateQrCode('same', undefined)]);
  assert.deepEqual(a, b);
});

