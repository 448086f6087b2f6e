// Tier 2 (hand-written glue): the hot function compiled to WebAssembly, called over the module's linear memory.
// Loaded by node/server.js (`node server.js --tier tier-2`); tested by node/tests/tier-2.test.js.
// The module: node/build/qr_wasm.wasm (crates/qr-wasm, built by `cargo xtask build`), driven by the glue
// that the browser playground (web/) runs too: ./qr-wasm-abi.js.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const glue = require('./qr-wasm-abi');

const WASM_PATH = path.join(__dirname, '..', 'build', 'qr_wasm.wasm');

// Compiled once, when the module is loaded (a missing build output fails at server start, not per request).
const qrWasm = glue.connect(new WebAssembly.Module(fs.readFileSync(WASM_PATH)));

/**
 * `(text, engine, options) -> Buffer`: the image of `text` (validated by the server) with the named engine
 * (undefined = the core's default) and the options given (none: a null options pointer, nothing encoded). Throws an
 * Error with the core's message, `code: 'BAD_INPUT'` for bad input; after any other failure (a trap, i.e. a
 * WebAssembly.RuntimeError, or a malformed result) the instance is replaced before the next call.
 */
function generateQrCode(text, engine, options) {
  try {
    const image = qrWasm.generate(text, engine, options);
    return Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  } catch (err) {
    // A plain Error, as the tier interface promises.
    if (err instanceof glue.CoreError) throw Object.assign(new Error(err.message), err.code && { code: err.code });
    throw err;
  }
}

module.exports = {
  generateQrCode,
  // For node/tests/tier-2.test.js only: the live instance (null before the first call or after a trap).
  __testing: { currentInstance: qrWasm.currentInstance },
};
