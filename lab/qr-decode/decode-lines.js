// The Node decoders for lab/qr-decode (src/node.rs starts one such process per test binary):
// jsqr (the bytes a QR code holds, through node/tests/support/qr-decode.js) and ZXing (zxing-wasm:
// the text a phone scanner shows, and the error-correction level it reads). One JSON line in, one
// out, in order: `{"png": hex, "resample": bool}` -> `{"jsqr": hex | null, "jsqrError": why | null,
// "zxing": {"text": text, "ecLevel": "L" | "M" | "Q" | "H"} | null, "zxingError": why | null}`.
'use strict';

const path = require('node:path');
const readline = require('node:readline');

// The Node host's packages (node/node_modules), where `cargo xtask build` installs them, and its decoders.
const { decodeQrPng, zxingRead } = require(path.join(__dirname, '..', '..', 'node', 'tests', 'support', 'qr-decode'));

/** Runs `f`, giving its value or the one-line reason it failed. */
async function attempt(f) {
  try {
    return [await f(), null];
  } catch (error) {
    return [null, String(error && error.message).replace(/\s+/g, ' ')];
  }
}

let queue = Promise.resolve();
readline.createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  // Every line gets exactly one answer line, in order, even when the request itself is malformed.
  queue = queue.then(async () => {
    let answer;
    try {
      const { png: hex, resample } = JSON.parse(line);
      const png = Buffer.from(hex, 'hex');
      const [jsqr, jsqrError] = await attempt(() => decodeQrPng(png, { resample }).toString('hex'));
      const [zxing, zxingError] = await attempt(() => zxingRead(png));
      answer = { jsqr, jsqrError, zxing, zxingError };
    } catch (error) {
      const why = `bad request line: ${error && error.message}`;
      answer = { jsqr: null, jsqrError: why, zxing: null, zxingError: why };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
});
