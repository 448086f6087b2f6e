// In-process tests of tier-2-bindgen (crates/qr-wasm-bindgen through wasm-bindgen's generated glue).
// Run with `npm test` (in node/); needs node/build/ from `cargo xtask build`.
'use strict';

const assert = require('node:assert/strict');
const test = require('node:test');

const { decodeQrPng } = require('./support/qr-decode');
const { defineRustTierSuite, loadTier } = require('./support/rust-tier-suite');

defineRustTierSuite('tier-2-bindgen');

test('tier-2-bindgen: after a trap the glue and its instance are replaced and the next call succeeds', () => {
  const tier = loadTier('tier-2-bindgen');
  const { GLUE } = tier.__testing;
  const broken = require.cache[GLUE].exports;
  // The core never traps on valid input, so the trap is the glue's: its export fails as a trapped call does.
  broken.generate = () => {
    throw new WebAssembly.RuntimeError('unreachable');
  };
  assert.throws(() => tier.generateQrCode('x', undefined), WebAssembly.RuntimeError);
  assert.notEqual(require.cache[GLUE].exports, broken, 'a fresh glue module');
  assert.deepEqual(decodeQrPng(tier.generateQrCode('after the trap', undefined)), Buffer.from('after the trap'));
});
