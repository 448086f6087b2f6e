// Tier 2 (hand-written glue): the hot function compiled to WebAssembly, called over the module's linear memory.
// Loaded by node/server.js (`node server.js --tier tier-2`); tested by node/test/tier-2.test.js.
// The module: node/build/qr_wasm.wasm (crates/qr-wasm, built by `cargo xtask build`); its ABI is documented
// in crates/qr-wasm/src/lib.rs:
//   alloc(len) -> ptr            dealloc(ptr, len)
//   generate(text_ptr, text_len, engine_ptr, engine_len) -> result   (engine_ptr 0 = the default engine)
//   result -> three little-endian u32: status (0 = PNG, 1 = error message), data_ptr, data_len
//   free_result(result)          frees the result and its data
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const WASM_PATH = path.join(__dirname, '..', 'build', 'qr_wasm.wasm');
const STATUS_OK = 0;
const RESULT_SIZE = 12; // three u32

// Compiled once, when the module is loaded (a missing build output fails at server start, not per request).
const wasmModule = new WebAssembly.Module(fs.readFileSync(WASM_PATH));

// The live instance, made on first use. After a trap its state is unknown, so it is dropped (set to
// null) and the next call makes a fresh one from the compiled module.
let instance = null;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

function currentExports() {
  if (instance === null) instance = new WebAssembly.Instance(wasmModule, {});
  return instance.exports;
}

/** An Error reported by the core (bad input, unknown engine...): the instance is fine after it. */
class CoreError extends Error {}

/**
 * Copies `s` as UTF-8 into a fresh allocation in the instance; records it in `allocations` so the caller
 * frees it. Returns `{ ptr, len }`. The buffer is sized from the string's UTF-8 byte length, never fixed.
 */
function copyStringIn(wasm, s, allocations) {
  const len = Buffer.byteLength(s, 'utf8');
  const ptr = wasm.alloc(len);
  if (ptr === 0) throw new Error('qr_wasm: out of memory');
  allocations.push([ptr, len]);
  // alloc may have grown memory, which detaches older views: make the view from memory.buffer now.
  const { written } = encoder.encodeInto(s, new Uint8Array(wasm.memory.buffer, ptr, len));
  if (written !== len) throw new Error(`qr_wasm: encoded ${written} of ${len} bytes`);
  return { ptr, len };
}

/** Calls `generate` on `wasm`, frees everything it allocated, returns a Buffer copy or throws. */
function callGenerate(wasm, text, engine) {
  const allocations = [];
  let result = 0;
  let trapped = false;
  try {
    const t = copyStringIn(wasm, text, allocations);
    // No engine (undefined or null, like the other tiers) is a null pointer: the core's default.
    const e = engine == null ? { ptr: 0, len: 0 } : copyStringIn(wasm, engine, allocations);
    result = wasm.generate(t.ptr, t.len, e.ptr, e.len) >>> 0;

    // generate grows memory as it works: read through a view made after the call.
    const header = new DataView(wasm.memory.buffer, result, RESULT_SIZE);
    const status = header.getUint32(0, true);
    const dataPtr = header.getUint32(4, true);
    const dataLen = header.getUint32(8, true);
    const data = new Uint8Array(wasm.memory.buffer, dataPtr, dataLen);
    // Buffer.from(Uint8Array) copies: the returned Buffer never aliases Wasm memory, which the
    // next call reuses.
    if (status === STATUS_OK) return Buffer.from(data);
    throw new CoreError(decoder.decode(data));
  } catch (err) {
    trapped = !(err instanceof CoreError);
    throw err;
  } finally {
    // A trapped instance is thrown away whole; calling into it again could trap again.
    if (!trapped) {
      if (result !== 0) wasm.free_result(result);
      for (const [ptr, len] of allocations) wasm.dealloc(ptr, len);
    }
  }
}

/**
 * `text -> Buffer`: the PNG of `text` (validated by the server) with the named engine (undefined = the
 * core's default). Throws an Error with the core's message; after any other failure (a trap, i.e. a
 * WebAssembly.RuntimeError, or a malformed result) the instance is replaced before the next call.
 */
function generateQrCode(text, engine) {
  const wasm = currentExports();
  try {
    return callGenerate(wasm, text, engine);
  } catch (err) {
    if (!(err instanceof CoreError)) {
      instance = null;
      throw err;
    }
    throw new Error(err.message); // a plain Error, as the tier interface promises
  }
}

module.exports = {
  generateQrCode,
  // For node/test/tier-2.test.js only: the live instance (null before the first call or after a trap).
  __testing: { currentInstance: () => instance },
};
