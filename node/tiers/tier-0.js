// Tier 0: no Rust. npm `qrcode` renders the PNG (or its own SVG) in JS, with the request's options as its own.
// Loaded by node/server.js (`node server.js --tier tier-0`); tested by node/tests/tier-0.test.js.
'use strict';

const QRCode = require('qrcode');

/** The article's options: 200 px wide, EC level L, zlib level 9 with strategy 3 (Z_RLE). A fresh object per
 * call, because qrcode writes into the options it is given. */
function articleOptions() {
  return {
    type: 'png',
    width: 200,
    errorCorrectionLevel: 'L',
    rendererOpts: { deflateLevel: 9, deflateStrategy: 3 },
  };
}

/** npm qrcode's quiet zone when it is given none, in modules (the contract's default too). */
const DEFAULT_MARGIN = 4;

/** The error for a `size` below `min`, the symbol's modules plus twice the margin: BAD_INPUT, the contract's body. */
function sizeTooSmall(min) {
  return Object.assign(new Error(`"size" must be at least ${min} pixels for this text, ecLevel and margin`), {
    code: 'BAD_INPUT',
  });
}

/**
 * The `width` to hand npm qrcode for an image of exactly `size` px across `across` modules (quiet zone included).
 * npm qrcode scales by `width / across` and draws `floor(across * scale)` px, which floating point makes `size - 1`
 * for some sizes (`size=51` of 21 modules, about 5% of them); then a width one or two ulps above `size` gives a scale
 * as many ulps larger, and `size` px.
 */
function widthFor(size, across) {
  return Math.floor(across * (size / across)) === size ? size : size + size * Number.EPSILON;
}

/**
 * `(text, engine, options) -> Promise<Buffer>`: the PNG (or SVG) of `text`. Without options, called exactly as the
 * article does: with the string, so npm qrcode picks its own segments (numeric, alphanumeric, byte). Byte segments
 * hold the UTF-8 bytes and the other modes stand for the same ASCII characters, so the QR code decodes to exactly the
 * text's bytes (NUL and emoji included); Kanji mode stays off, as it needs a `toSJISFunc` option.
 *
 * `options` (node/http/query.js's, only those the request gave) become npm qrcode's own: `errorCorrectionLevel`,
 * `width` (exactly `size`), `margin`, `color` ('#rrggbbaa'), and `toString` with type `svg`. A `size` below the
 * symbol's modules plus twice the margin, which npm qrcode would silently ignore, rejects with `code === 'BAD_INPUT'`
 * and the contract's message. Tier 0 has a single engine (npm qrcode): the server rejects --engine for it, so
 * `_engine` is unused.
 */
async function generateQrCode(text, _engine, options) {
  const { format, size, margin, ecLevel, dark, light } = options ?? {};
  const npmOptions = articleOptions();
  if (ecLevel !== undefined) npmOptions.errorCorrectionLevel = ecLevel;
  if (margin !== undefined) npmOptions.margin = margin;
  if (dark !== undefined || light !== undefined) {
    npmOptions.color = {};
    if (dark !== undefined) npmOptions.color.dark = `#${dark}`;
    if (light !== undefined) npmOptions.color.light = `#${light}`;
  }
  if (size !== undefined) {
    const modules = QRCode.create(text, { errorCorrectionLevel: npmOptions.errorCorrectionLevel }).modules.size;
    const across = modules + 2 * (margin ?? DEFAULT_MARGIN);
    if (size < across) throw sizeTooSmall(across);
    npmOptions.width = format === 'svg' ? size : widthFor(size, across);
  }
  if (format === 'svg') {
    npmOptions.type = 'svg';
    return Buffer.from(await QRCode.toString(text, npmOptions), 'utf8');
  }
  return QRCode.toBuffer(text, npmOptions);
}

module.exports = { generateQrCode, widthFor };
