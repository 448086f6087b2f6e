// Tier 2 (wasm-bindgen glue): the hot function compiled to WebAssembly, called through generated JS glue.
// Loaded by node/server.js (`node server.js --tier tier-2-bindgen`); tested by node/test/tier-2-bindgen.test.js.
// The glue: node/build/bindgen/qr_wasm_bindgen.js, made by wasm-bindgen-cli --target nodejs from
// crates/qr-wasm-bindgen (`cargo xtask build`). It compiles and instantiates the module when required.
'use strict';

const path = require('node:path');

const { generate } = require(path.join(__dirname, '..', 'build', 'bindgen', 'qr_wasm_bindgen.js'));

/**
 * `text -> Buffer`: the PNG of `text` with the named engine (undefined = the core's default). Throws the
 * core's message as an Error (a JsError from Rust).
 */
function generateQrCode(text, engine) {
  // The glue already copied the bytes out of Wasm memory into this Uint8Array (`.slice()`); wrap its
  // memory as a Buffer without another copy.
  const png = generate(text, engine);
  return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
}

module.exports = { generateQrCode };
