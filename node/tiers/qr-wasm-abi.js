// The hand-written glue for qr_wasm.wasm (crates/qr-wasm), for every JavaScript host: Node's tier-2
// (`require('./qr-wasm-abi')`) and the browser playground (web/, `<script src="options-record.js">` then
// `<script src="qr-wasm-abi.js">`, which defines `QrWasmGlue`). Its ABI is documented in crates/qr-wasm/src/lib.rs:
//   alloc(len) -> ptr            dealloc(ptr, len)
//   generate(text_ptr, text_len, engine_ptr, engine_len, options_ptr) -> result
//                                (engine_ptr 0 = the default engine; options_ptr 0 = the default options, else
//                                the 16-byte options record, written by ./options-record.js)
//   result -> three little-endian u32: status (0 = the image, 1 = failure message, 2 = bad input message),
//             data_ptr, data_len
//   free_result(result)          frees the result and its data
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory(require('./options-record'));
  else root.QrWasmGlue = factory(root.QrOptionsRecord);
})(typeof self !== 'undefined' ? self : this, function (optionsRecord) {
  'use strict';

  const STATUS_OK = 0;
  const STATUS_BAD_INPUT = 2;
  const RESULT_SIZE = 12; // three u32

  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8');

  /**
   * An error reported by the core, with its message: the instance is fine after it. `code` is 'BAD_INPUT' when the
   * input is at fault (a text or an option that breaks its rule, a size too small: the contract's 400 body), else
   * undefined (an unknown engine, the engine failing).
   */
  class CoreError extends Error {
    constructor(message, code) {
      super(message);
      this.code = code;
    }
  }

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

  /**
   * Writes the record of `options` into a fresh allocation in the instance and records it in `allocations`.
   * Returns its pointer: 0 (the defaults) when `options` gives none, with nothing encoded or allocated.
   */
  function copyOptionsIn(wasm, options, allocations) {
    if (!optionsRecord.hasOptions(options)) return 0;
    const ptr = wasm.alloc(optionsRecord.RECORD_LEN);
    if (ptr === 0) throw new Error('qr_wasm: out of memory');
    allocations.push([ptr, optionsRecord.RECORD_LEN]);
    optionsRecord.writeRecord(options, new Uint8Array(wasm.memory.buffer, ptr, optionsRecord.RECORD_LEN), 0);
    return ptr;
  }

  /** Calls `generate` on `wasm`, frees everything it allocated, returns a copy of the image or throws. */
  function callGenerate(wasm, text, engine, options) {
    const allocations = [];
    let result = 0;
    let trapped = false;
    try {
      const t = copyStringIn(wasm, text, allocations);
      // No engine (undefined or null) is a null pointer: the core's default.
      const e = engine == null ? { ptr: 0, len: 0 } : copyStringIn(wasm, engine, allocations);
      const o = copyOptionsIn(wasm, options, allocations);
      result = wasm.generate(t.ptr, t.len, e.ptr, e.len, o) >>> 0;

      // generate grows memory as it works: read through a view made after the call.
      const header = new DataView(wasm.memory.buffer, result, RESULT_SIZE);
      const status = header.getUint32(0, true);
      const dataPtr = header.getUint32(4, true);
      const dataLen = header.getUint32(8, true);
      const data = new Uint8Array(wasm.memory.buffer, dataPtr, dataLen);
      // slice() copies: the image never aliases Wasm memory, which the next call reuses.
      if (status === STATUS_OK) return data.slice();
      throw new CoreError(decoder.decode(data), status === STATUS_BAD_INPUT ? 'BAD_INPUT' : undefined);
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
   * The glue for one compiled `WebAssembly.Module`: `generate(text, engine, options) -> Uint8Array` makes the image
   * of `text` with the named engine (undefined = the core's default) and the image options (an object of the
   * options given, as ./options-record.js takes them; undefined or {} = the defaults: a null pointer) and throws a
   * CoreError with the core's message; after any other failure (a trap, i.e. a WebAssembly.RuntimeError, or a
   * malformed result) the instance is dropped and the next call makes a fresh one. `currentInstance()` is the live
   * instance (null before the first call or after a trap), for tests.
   */
  function connect(wasmModule) {
    let instance = null;
    return {
      generate(text, engine, options) {
        if (instance === null) instance = new WebAssembly.Instance(wasmModule, {});
        try {
          return callGenerate(instance.exports, text, engine, options);
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
