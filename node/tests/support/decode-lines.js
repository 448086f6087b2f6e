// Test helper for the Rust suites (lab/qr-decode): the Node decoders, independent of rqrr and of every encoder.
// One JSON line in, one out, in order: `{"png": hex, "resample": bool}` ->
// `{"jsqr": hex | null, "jsqrError": why | null, "zxing": text | null, "zxingError": why | null}`.
'use strict';

const readline = require('node:readline');
const { decodeQrPng, scanQrPng } = require('./qr-decode');

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
      const [zxing, zxingError] = await attempt(() => scanQrPng(png));
      answer = { jsqr, jsqrError, zxing, zxingError };
    } catch (error) {
      const why = `bad request line: ${error && error.message}`;
      answer = { jsqr: null, jsqrError: why, zxing: null, zxingError: why };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
});
