// Tier 0: no Rust. npm `qrcode` with the article's options renders the PNG in JS.
// Loaded by node/server.js (`node server.js --tier tier-0`); tested by node/test/tiers.test.js.
'use strict';

const QRCode = require('qrcode');

/** The article's options: 200 px wide, EC level L, zlib level 9 with strategy 3 (Z_RLE). A fresh object per
 * call, because qrcode writes into the options it is given. */
function options() {
  return {
    type: 'png',
    width: 200,
    errorCorrectionLevel: 'L',
    rendererOpts: { deflateLevel: 9, deflateStrategy: 3 },
  };
}

/**
 * `text -> Promise<Buffer>` (a PNG). The text goes in as one byte-mode segment of its UTF-8 bytes, so the
 * QR code holds exactly those bytes (NUL and emoji included) and no mode switching or Kanji guessing applies.
 * Tier 0 has a single engine (npm qrcode): the server rejects --engine for it, so `_engine` is unused.
 */
function generateQrCode(text, _engine) {
  return QRCode.toBuffer([{ data: Buffer.from(text, 'utf8'), mode: 'byte' }], options());
}

module.exports = { generateQrCode };
