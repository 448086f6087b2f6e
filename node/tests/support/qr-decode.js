// Test helper: reads a QR code PNG back with decoders independent of every encoder: jsqr + pngjs (the bytes it
// holds) and ZXing (zxing-wasm: the text a phone scanner shows). Used by node/tests/*.test.js (`npm test`) and,
// through lab/qr-decode/decode-lines.js, by the Rust suites; not a test file itself.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const jsQR = require('jsqr');
const { PNG } = require('pngjs');
const zxing = require('zxing-wasm/reader');

/**
 * Returns the bytes stored in the QR code of `png` (a Buffer), or throws if it cannot be read.
 *
 * jsqr reads the image as it is first. It cannot find the grid when a module is a fractional number
 * of pixels wide and the symbol is large (npm qrcode's `width: 200` draws a version-15 symbol with
 * modules of 2 or 3 px), so then the module centres are sampled from the image and the resulting
 * clean symbol is handed to jsqr: jsqr still does the finding, format, error correction and data parsing.
 * `resample: false` turns that second try off (the Rust tiers' whole-pixel modules never need it).
 */
function decodeQrPng(png, { resample = true } = {}) {
  const image = PNG.sync.read(png);
  const rgba = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length);
  let result = jsQR(rgba, image.width, image.height, { inversionAttempts: 'dontInvert' });
  if (result === null && resample) {
    const clean = resampleModules(image);
    if (clean !== null) result = jsQR(clean.data, clean.width, clean.height, { inversionAttempts: 'dontInvert' });
  }
  if (result === null) throw new Error(`no QR code found in the ${image.width}x${image.height} PNG`);
  return Buffer.from(result.binaryData);
}

/** Reads the module grid of a clean black-on-white symbol and redraws it at 4 px per module with a 4-module quiet zone. */
function resampleModules(image) {
  const { width, height, data } = image;
  const dark = (x, y) => data[(y * width + x) * 4] < 128;
  // The bounding box of the dark pixels is the symbol.
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (dark(x, y)) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  // The finder pattern's top edge is 7 modules of dark: a rough module size, enough to find row 6, the
  // timing row. Row 6 holds the two finders' bottom edges and, between them, alternating modules that
  // start and end dark: 2 + (modules - 15) / 2 dark runs in all.
  let run = 0;
  while (x0 + run <= x1 && dark(x0 + run, y0)) run++;
  const row6 = Math.floor(y0 + 6.5 * (run / 7));
  let darkRuns = 0;
  for (let x = x0; x <= x1; x++) if (dark(x, row6) && (x === x0 || !dark(x - 1, row6))) darkRuns++;
  const modules = 2 * (darkRuns - 2) + 15;
  if (modules < 21 || modules > 177 || (modules - 17) % 4 !== 0) return null;
  const side = x1 - x0 + 1;
  const step = side / modules;
  const scale = 4;
  const out = modules + 8;
  const pixels = new Uint8ClampedArray(out * scale * out * scale * 4).fill(255);
  for (let row = 0; row < modules; row++) {
    for (let col = 0; col < modules; col++) {
      const x = Math.min(x1, Math.floor(x0 + (col + 0.5) * step));
      const y = Math.min(y1, Math.floor(y0 + (row + 0.5) * step));
      if (!dark(x, y)) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = (((row + 4) * scale + dy) * out * scale + (col + 4) * scale + dx) * 4;
          pixels[i] = pixels[i + 1] = pixels[i + 2] = 0;
        }
      }
    }
  }
  return { data: pixels, width: out * scale, height: out * scale };
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(png) {
  const image = PNG.sync.read(png);
  return { width: image.width, height: image.height };
}

/** ZXing's module, instantiated once from the package's own .wasm file (never fetched from a CDN). */
let zxingReady = null;

/**
 * What ZXing (the decoder inside most phone scanners) reads in the QR code in `png`: `{ text, ecLevel }`, the
 * text being the symbol's segments decoded with their modes and character sets, so Kanji mode or a wrong guess
 * shows as mojibake. Rejects if it finds no QR code, or more than one.
 */
async function zxingRead(png) {
  if (zxingReady === null) {
    const wasm = fs.readFileSync(require.resolve('zxing-wasm/reader/zxing_reader.wasm'));
    const wasmBinary = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.length);
    zxingReady = zxing.prepareZXingModule({ overrides: { wasmBinary }, fireImmediately: true });
  }
  await zxingReady;
  const found = await zxing.readBarcodes(new Uint8Array(png), { formats: ['QRCode'], maxNumberOfSymbols: 2, textMode: 'Plain' });
  if (found.length !== 1) throw new Error(`ZXing found ${found.length} QR codes, expected 1`);
  return { text: found[0].text, ecLevel: found[0].ecLevel };
}

/** The text ZXing shows for the QR code in `png`; rejects as `zxingRead` does, or if its EC level is not `ecLevel`. */
async function scanQrPng(png, ecLevel = 'L') {
  const read = await zxingRead(png);
  if (read.ecLevel !== ecLevel) throw new Error(`ZXing reads EC level ${read.ecLevel}, expected ${ecLevel}`);
  return read.text;
}

/** Asserts that `png` is a QR code of exactly `text`: jsqr reads its UTF-8 bytes, ZXing shows it as `text`. */
async function assertReadsBack(png, text, what = JSON.stringify(text.slice(0, 40))) {
  assert.ok(Buffer.isBuffer(png), `${what}: a Buffer`);
  assert.deepEqual(decodeQrPng(png), Buffer.from(text, 'utf8'), `${what}: jsqr`);
  assert.equal(await scanQrPng(png), text, `${what}: ZXing`);
}

module.exports = { decodeQrPng, zxingRead, scanQrPng, assertReadsBack, pngSize };
