// In-process tests of tier-2 (crates/qr-wasm through the hand-written glue in node/tiers/tier-2.js): the
// shared suite, plus recovery after a trap, bounded memory, and the glue as the browser playground loads it.
// Run with `npm test` (in node/); needs node/build/.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { defineRustTierSuite, OPTION_SETS, TOO_SMALL } = require('./support/rust-tier-suite');
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
  // Warm-up: every text length at every EC level, so every QR version's lazily built tables exist before measuring.
  for (const ecLevel of ['L', 'M', 'Q', 'H']) {
    for (let n = 1; n <= 512; n++) tier2.generateQrCode('x'.repeat(n), undefined, { ecLevel });
  }
  // The option sets whose size holds even the largest symbol (or that ask no size).
  const fitting = OPTION_SETS.filter(({ size }) => size === undefined || size >= 300);
  for (const text of texts) for (const options of [undefined, ...fitting]) tier2.generateQrCode(text, undefined, options);
  const memory = tier2.__testing.currentInstance().exports.memory;
  const before = memory.buffer.byteLength;
  // Unfreed, each call would leave its text, its options record and its ~1 KB PNG behind: 3000 calls are
  // megabytes, many pages.
  for (let i = 0; i < 3000; i++) {
    const text = texts[i % texts.length];
    const options = i % 3 === 0 ? fitting[i % fitting.length] : undefined;
    tier2.generateQrCode(i % 7 === 0 ? `${i} ${text.slice(0, 100)}` : text, undefined, options);
    if (i % 500 === 0) {
      // The error paths free too.
      assert.throws(() => tier2.generateQrCode('x', 'no-such-engine'));
      assert.throws(() => tier2.generateQrCode(TOO_SMALL.text, undefined, TOO_SMALL.options), { code: 'BAD_INPUT' });
    }
  }
  assert.equal(tier2.__testing.currentInstance().exports.memory, memory, 'same instance throughout');
  assert.equal(memory.buffer.byteLength, before, 'memory did not grow');
});

test('qr-wasm-abi in a browser-like global scope: <script> options-record.js then qr-wasm-abi.js, the same images', () => {
  // No `module`, no `require`, no `Buffer`: what the playground's page gives the two scripts.
  const page = { TextEncoder, TextDecoder, WebAssembly, Uint8Array, DataView, Map, Number, Object, Error, TypeError };
  page.self = page;
  vm.createContext(page);
  for (const script of ['options-record.js', 'qr-wasm-abi.js']) {
    const file = path.join(__dirname, '..', 'tiers', script);
    vm.runInContext(fs.readFileSync(file, 'utf8'), page, { filename: file });
  }
  const wasm = new WebAssembly.Module(fs.readFileSync(path.join(__dirname, '..', 'build', 'qr_wasm.wasm')));
  const glue = page.QrWasmGlue.connect(wasm);
  for (const options of [undefined, {}, ...OPTION_SETS]) {
    const image = Buffer.from(glue.generate('Grüße aus 東京 🦀', 'fast', options));
    assert.ok(image.equals(tier2.generateQrCode('Grüße aus 東京 🦀', 'fast', options)), JSON.stringify(options));
  }
  assert.throws(() => glue.generate(TOO_SMALL.text, undefined, TOO_SMALL.options), (err) => {
    assert.ok(err instanceof page.QrWasmGlue.CoreError);
    assert.deepEqual([err.code, err.message], ['BAD_INPUT', TOO_SMALL.message]);
    return true;
  });
  assert.throws(() => glue.generate('x', 'nope'), (err) => err instanceof page.QrWasmGlue.CoreError && err.code === undefined);
});

test("qr-wasm-abi: countUtf8, the browser's UTF-8 length, is Buffer.byteLength's", () => {
  const glue = require('../tiers/qr-wasm-abi');
  const texts = ['', 'a', 'é', '漢字', '😀', 'a😀b', '\uD800', '\uDC00x', 'a\uD83D', '\uD83D\uD83D\uDE00', 'x'.repeat(512)];
  for (const text of texts) assert.equal(glue.countUtf8(text), Buffer.byteLength(text, 'utf8'), JSON.stringify(text));
});
