// In-process tests of tier-2-bindgen (crates/qr-wasm-bindgen through wasm-bindgen's generated glue).
// Run with `npm test` (in node/); needs node/build/ from `cargo xtask build`.
'use strict';

const { defineRustTierSuite } = require('../testing/rust-tiers');

defineRustTierSuite('tier-2-bindgen');
