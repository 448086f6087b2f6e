// Tier 3: the hot function as a native addon (napi-rs), loaded into this process with require().
// Loaded by node/server.js (`node server.js --tier tier-3`); tested by node/tests/tier-3.test.js.
// The addon: node/build/qr_napi.node (crates/qr-napi, built by `cargo xtask build`), loaded here once and
// exported for the modules built on it (tier-3-async, node-ceiling).
'use strict';

const path = require('node:path');

const addon = require(path.join(__dirname, '..', 'build', 'qr_napi.node'));

/**
 * `text -> Buffer`: the PNG of `text` with the named engine (undefined = the core's default), computed
 * synchronously on this thread. The addon returns a Buffer that owns the Rust allocation (no copy, no
 * view into shared memory). Throws an Error with the core's message; a Rust panic is caught and thrown
 * as an Error too.
 */
function generateQrCode(text, engine) {
  return addon.generate(text, engine);
}

module.exports = { generateQrCode, addon };
