// node/tiers/tier-3.d.ts: TypeScript declarations of node/tiers/tier-3.js (tier 3, the napi-rs addon).
// The addon's own exports are declared in crates/qr-napi/index.d.ts, which a test holds to what
// napi-derive emits for the Rust source. Checked by node/tests/types.test.js.

import type { ImageOptions } from './options-record';
import type { QrOptions } from '../../crates/qr-napi/index';

/**
 * The image of `text` with the named engine (`undefined` or `null` = the core's default) and the options
 * given, computed synchronously by the addon, as a Buffer that owns the Rust allocation. Throws an Error
 * with the core's message (`code: 'BAD_INPUT'` for bad input; a Rust panic too, as a failure).
 */
export declare function generateQrCode(text: string, engine?: string | null, options?: ImageOptions | null): Buffer;

/** The addon itself (crates/qr-napi/index.d.ts), for the modules built on it. */
export declare const addon: typeof import('../../crates/qr-napi/index');

/** The addon's `options` argument: the object itself, or undefined when it gives no option. */
export declare function addonOptions(options?: ImageOptions | null): QrOptions | undefined;

/** The addon's error as the tier interface's: code `InvalidArg` (bad input) becomes `BAD_INPUT`. */
export declare function tierError<E>(err: E): E;
