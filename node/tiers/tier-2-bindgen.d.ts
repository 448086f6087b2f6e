// node/tiers/tier-2-bindgen.d.ts: TypeScript declarations of node/tiers/tier-2-bindgen.js (tier 2 through
// wasm-bindgen). The glue it loads declares itself: lab/bindgen-glue writes
// node/build/bindgen/qr_wasm_bindgen.d.ts beside the .js, as `wasm-bindgen` does. Checked by
// node/tests/types.test.js (node/types/consumer.ts type-checks against both).

import type { ImageOptions } from './options-record';

/**
 * The image of `text` with the named engine (`undefined` or `null` = the core's default) and the options given
 * (handed to the glue as its `QrOptions` object), as a Buffer over the bytes the glue copied out of Wasm memory.
 * Throws the core's message as an Error (`code: 'BAD_INPUT'` for bad input); after a trap the next call gets a
 * fresh instance.
 */
export declare function generateQrCode(text: string, engine?: string | null, options?: ImageOptions | null): Buffer;

/** For node/tests/tier-2-bindgen.test.js only. */
export declare const __testing: {
  /** The path of the generated glue (node/build/bindgen/qr_wasm_bindgen.js). */
  readonly GLUE: string;
};
