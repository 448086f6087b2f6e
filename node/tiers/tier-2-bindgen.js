// Tier 2 (wasm-bindgen glue): the hot function compiled to WebAssembly, called through generated JS glue.
// Loaded by node/server.js (`node server.js --tier tier-2-bindgen`); tested by node/tests/tier-2-bindgen.test.js.
// The glue: node/build/bindgen/qr_wasm_bindgen.js, wasm-bindgen's --target nodejs output made by lab/bindgen-glue
// from crates/qr-wasm-bindgen (`cargo xtask build`). It compiles and instantiates the module when required.
'use strict';

const path = require('node:path');
const { hasOptions } = require('./options-record');

const GLUE = path.join(__dirname, '..', 'build', 'bindgen', 'qr_wasm_bindgen.js');

/** The glue module; replaced by a fresh one (a new Wasm instance) after a trap. */
let glue = require(GLUE);

/**
 * `(text, engine, options) -> Buffer`: the image of `text` with the named engine (undefined = the core's default)
 * and the options given, handed to the glue as the plain object they are (`QrOptions` in its .d.ts; none:
 * undefined, so the Rust side reads no property). Throws the core's message as an Error: the glue's RangeError for
 * bad input becomes an Error with `code: 'BAD_INPUT'`; anything else is the glue's Error (a JsError from Rust).
 */
function generateQrCode(text, engine, options) {
  let image;
  try {
    image = glue.generate(text, engine, hasOptions(options) ? options : undefined);
  } catch (err) {
    if (err instanceof RangeError) throw Object.assign(new Error(err.message), { code: 'BAD_INPUT' });
    if (err instanceof WebAssembly.RuntimeError) {
      // A trap leaves the instance's memory in an unknown state: the next call gets a fresh instance,
      // by requiring the glue anew (it instantiates the module when loaded).
      delete require.cache[GLUE];
      glue = require(GLUE);
    }
    throw err;
  }
  // The glue already copied the bytes out of Wasm memory into this Uint8Array (`.slice()`); wrap its
  // memory as a Buffer without another copy.
  return Buffer.from(image.buffer, image.byteOffset, image.byteLength);
}

module.exports = { generateQrCode, __testing: { GLUE } };
