// Tier 0: no Rust. npm `qrcode` with the article's options renders the PNG in JS.
// Loaded by node/server.js (`node server.js --tier tier-0`); tested by node/tests/tier-0.test.js.
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
 * `text -> Promise<Buffer>` (a PNG), called exactly as the article does: with the string, so npm qrcode
 * picks its own segments (numeric, alphanumeric, byte). Byte segments hold the UTF-8 bytes and the other
 * modes stand for the same ASCII characters, so the QR code decodes to exactly the text's bytes (NUL and
 * emoji included); Kanji mode stays off, as it needs a `toSJISFunc` option.
 * Tier 0 has a single engine (npm qrcode): the server rejects --engine for it, so `_engine` is unused.
 */
function generateQrCode(text, _engine) {
  return QRCode.toBuffer(text, options());
}

module.exports = { generateQrCode };
