// node/tiers/tier-2.d.ts: TypeScript declarations of node/tiers/tier-2.js (tier 2, the hand-written Wasm
// glue) and of the ABI it calls in node/build/qr_wasm.wasm (crates/qr-wasm, documented in its lib.rs).
// Checked by node/tests/types.test.js: node/types/consumer.ts must type-check against them, and
// `QrWasmExports` must name exactly the module's exported functions (with their parameter counts) and
// memory.

import type { ImageOptions } from './options-record';

/**
 * The exports of node/build/qr_wasm.wasm that the glue calls. Pointers, lengths and results are
 * 32-bit offsets into `memory`; a result points at three little-endian u32: status (0 = the image,
 * 1 = failure message, 2 = bad input message), data pointer, data length.
 */
export interface QrWasmExports {
  /** The module's linear memory; its `buffer` is replaced whenever the module grows it. */
  readonly memory: { readonly buffer: ArrayBuffer };
  /** Allocates `len` bytes; 0 when out of memory. */
  alloc(len: number): number;
  /** Frees what `alloc(len)` returned. */
  dealloc(ptr: number, len: number): void;
  /**
   * Generates the image of the UTF-8 text at `textPtr`; `enginePtr` 0 means the default engine, `optionsPtr` 0
   * the default options (else it points to the 16-byte options record).
   */
  generate(textPtr: number, textLen: number, enginePtr: number, engineLen: number, optionsPtr: number): number;
  /** Frees a result of `generate` and the data it points to. */
  free_result(result: number): void;
}

/**
 * The image of `text` (validated by the server) with the named engine (`undefined` or `null` = the
 * core's default) and the options given (as the options record; none: a null pointer), as a Buffer that
 * owns its bytes. Throws an Error with the core's message (`code: 'BAD_INPUT'` for bad input); after a
 * trap (a `WebAssembly.RuntimeError`) the instance is replaced before the next call.
 */
export declare function generateQrCode(text: string, engine?: string | null, options?: ImageOptions | null): Buffer;

/** For node/tests/tier-2.test.js only. */
export declare const __testing: {
  /** The live instance: null before the first call and after a trap. */
  currentInstance(): { readonly exports: QrWasmExports } | null;
};
