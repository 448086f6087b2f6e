// Test helper for the Rust conformance suite (crates/qr-harness): jsqr as a second decoder, independent
// of rqrr. One line in, one line out: `<resample 0|1> <PNG as hex>` -> `ok <decoded bytes as hex>` or `err <why>`.
'use strict';

const readline = require('node:readline');
const { decodeQrPng } = require('./qr-decode');

readline.createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  const [resample, hex] = line.split(' ');
  let answer;
  try {
    answer = `ok ${decodeQrPng(Buffer.from(hex, 'hex'), { resample: resample === '1' }).toString('hex')}`;
  } catch (error) {
    answer = `err ${String(error.message).replace(/\s+/g, ' ')}`;
  }
  process.stdout.write(`${answer}\n`);
});
