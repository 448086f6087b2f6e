// node/tiers/tier-3.d.ts: TypeScript declarations of node/tiers/tier-3.js (tier 3, the napi-rs addon).
// The addon's own exports are declared in crates/qr-napi/index.d.ts, which a test holds to what
// napi-derive emits for the Rust source. Checked by node/tests/types.test.js.

/**
 * The PNG of `text` with the named engine (`undefined` or `null` = the core's default), computed
 * synchronously by the addon, as a Buffer that owns the Rust allocation. Throws an Error with the core's
 * message (a Rust panic too).
 */
export declare function generateQrCode(text: string, engine?: string | null): Buffer;

/** The addon itself (crates/qr-napi/index.d.ts), for the modules built on it. */
export declare const addon: typeof import('../../crates/qr-napi/index');
