// In-process tests of tier-2 (crates/qr-wasm through the hand-written glue in node/tiers/tier-2.js): the
// shared suite, plus recovery after a trap and bounded memory. Run with `npm test` (in node/); needs node/build/.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { defineRustTierSuite } = require('./support/rust-tier-suite');
const { decodeQrPng } = require('./support/qr-decode');
const tier2 = require('../tiers/tier-2');

defineRustTierSuite('tier-2');

test('tier-2: after a trap the instance is replaced and the next call succeeds', () => {
  tier2.generateQrCode('warm up', undefined);
  const broken = tier2.__testing.currentInstance();
  assert.ok(broken instanceof WebAssembly.Instance);
  // Corrupt the instance's whole state (allocator, statics, heap): every pointer in it now points far
  // outside memory, so the next call traps with a WebAssembly.RuntimeError.
  new Uint8Array(broken.exports.memory.buffer).fill(0xff);
  assert.throws(() => tier2.generateQrCode('during the trap', undefined), WebAssembly.RuntimeError);
  assert.equal(tier2.__testing.currentInstance(), null, 'the trapped instance is dropped');

  const png = tier2.generateQrCode('after the trap', undefined);
  assert.deepEqual(decodeQrPng(png), Buffer.from('after the trap'));
  const fresh = tier2.__testing.currentInstance();
  assert.ok(fresh instanceof WebAssembly.Instance && fresh !== broken, 'a fresh instance');
});

test('tier-2: many calls do not grow Wasm memory (everything allocated is freed)', () => {
  const texts = ['a', 'x'.repeat(512), '漢'.repeat(170), '😀'.repeat(128), 'https://tourofrust.com'];
  // Warm-up: every text length, so every QR version's lazily built tables exist before measuring.
  for (let n = 1; n <= 512; n++) tier2.generateQrCode('x'.repeat(n), undefined);
  for (const text of texts) tier2.generateQrCode(text, undefined);
  const memory = tier2.__testing.currentInstance().exports.memory;
  const before = memory.buffer.byteLength;
  // Unfreed, each call would leave its text and its ~1 KB PNG behind: 3000 calls are megabytes, many pages.
  for (let i = 0; i < 3000; i++) {
    const text = texts[i % texts.length];
    tier2.generateQrCode(i % 7 === 0 ? `${i} ${text.slice(0, 100)}` : text, undefined);
    if (i % 500 === 0) assert.throws(() => tier2.generateQrCode('x', 'no-such-engine')); // the error path frees too
  }
  assert.equal(tier2.__testing.currentInstance().exports.memory, memory, 'same instance throughout');
  assert.equal(memory.buffer.byteLength, before, 'memory did not grow');
});

test("qr-wasm-abi: countUtf8, the browser's UTF-8 length, is Buffer.byteLength's", () => {
  const glue = require('../tiers/qr-wasm-abi');
  const texts = ['', 'a', 'é', '漢字', '😀', 'a😀b', '\uD800', '\uDC00x', 'a\uD83D', '\uD83D\uD83D\uDE00', 'x'.repeat(512)];
  for (const text of texts) assert.equal(glue.countUtf8(text), Buffer.byteLength(text, 'utf8'), JSON.stringify(text));
});
