// Test helper for the Rust suites (crates/qr-decode): the Node decoders, independent of rqrr and of every encoder.
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
  queue = queue.then(async () => {
    const { png: hex, resample } = JSON.parse(line);
    const png = Buffer.from(hex, 'hex');
    const [jsqr, jsqrError] = await attempt(() => decodeQrPng(png, { resample }).toString('hex'));
    const [zxing, zxingError] = await attempt(() => scanQrPng(png));
    process.stdout.write(`${JSON.stringify({ jsqr, jsqrError, zxing, zxingError })}\n`);
  });
});
