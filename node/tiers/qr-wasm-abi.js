// The hand-written glue for qr_wasm.wasm (crates/qr-wasm), for every JavaScript host: Node's tier-2
// (`require('./qr-wasm-abi')`) and the browser playground (web/, `<script src="qr-wasm-abi.js">`, which
// defines `QrWasmGlue`). Its ABI is documented in crates/qr-wasm/src/lib.rs:
//   alloc(len) -> ptr            dealloc(ptr, len)
//   generate(text_ptr, text_len, engine_ptr, engine_len) -> result   (engine_ptr 0 = the default engine)
//   result -> three little-endian u32: status (0 = PNG, 1 = error message), data_ptr, data_len
//   free_result(result)          frees the result and its data
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.QrWasmGlue = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  const STATUS_OK = 0;
  const RESULT_SIZE = 12; // three u32

  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8');

  /** An error reported by the core (bad input, unknown engine...), with its message: the instance is fine after it. */
  class CoreError extends Error {}

  /** The length of `s` in UTF-8, as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
  function countUtf8(s) {
    let len = 0;
    for (let i = 0; i < s.length; i++) {
      const unit = s.charCodeAt(i);
      if (unit < 0x80) len += 1;
      else if (unit < 0x800) len += 2;
      else if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        len += 4;
        i++;
      } else len += 3;
    }
    return len;
  }

  /** countUtf8, or Node's native Buffer.byteLength where there is one (tier-2's hot path). */
  const utf8Length = typeof Buffer === 'function' ? (s) => Buffer.byteLength(s, 'utf8') : countUtf8;

  /**
   * Copies `s` as UTF-8 into a fresh allocation in the instance and records it in `allocations`, so the
   * caller frees it. Returns `{ ptr, len }`; the allocation is sized from the string's UTF-8 length.
   */
  function copyStringIn(wasm, s, allocations) {
    const len = utf8Length(s);
    const ptr = wasm.alloc(len);
    if (ptr === 0) throw new Error('qr_wasm: out of memory');
    allocations.push([ptr, len]);
    // alloc may have grown memory, which detaches older views: make the view from memory.buffer now.
    const { written } = encoder.encodeInto(s, new Uint8Array(wasm.memory.buffer, ptr, len));
    if (written !== len) throw new Error(`qr_wasm: encoded ${written} of ${len} bytes`);
    return { ptr, len };
  }

  /** Calls `generate` on `wasm`, frees everything it allocated, returns a copy of the PNG or throws. */
  function callGenerate(wasm, text, engine) {
    const allocations = [];
    let result = 0;
    let trapped = false;
    try {
      const t = copyStringIn(wasm, text, allocations);
      // No engine (undefined or null) is a null pointer: the core's default.
      const e = engine == null ? { ptr: 0, len: 0 } : copyStringIn(wasm, engine, allocations);
      result = wasm.generate(t.ptr, t.len, e.ptr, e.len) >>> 0;

      // generate grows memory as it works: read through a view made after the call.
      const header = new DataView(wasm.memory.buffer, result, RESULT_SIZE);
      const status = header.getUint32(0, true);
      const dataPtr = header.getUint32(4, true);
      const dataLen = header.getUint32(8, true);
      const data = new Uint8Array(wasm.memory.buffer, dataPtr, dataLen);
      // slice() copies: the PNG never aliases Wasm memory, which the next call reuses.
      if (status === STATUS_OK) return data.slice();
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
   * The glue for one compiled `WebAssembly.Module`: `generate(text, engine) -> Uint8Array` makes the PNG of
   * `text` with the named engine (undefined = the core's default) and throws a CoreError with the core's
   * message; after any other failure (a trap, i.e. a WebAssembly.RuntimeError, or a malformed result) the
   * instance is dropped and the next call makes a fresh one. `currentInstance()` is the live instance (null
   * before the first call or after a trap), for tests.
   */
  function connect(wasmModule) {
    let instance = null;
    return {
      generate(text, engine) {
        if (instance === null) instance = new WebAssembly.Instance(wasmModule, {});
        try {
          return callGenerate(instance.exports, text, engine);
        } catch (err) {
          if (!(err instanceof CoreError)) instance = null;
          throw err;
        }
      },
      currentInstance: () => instance,
    };
  }

  return { connect, CoreError, countUtf8 };
});
