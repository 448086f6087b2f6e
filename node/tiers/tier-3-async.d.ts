// node/tiers/tier-3-async.d.ts: TypeScript declarations of node/tiers/tier-3-async.js (tier 3 on libuv's
// thread pool). Checked by node/tests/types.test.js.

/**
 * The PNG of `text` with the named engine (`undefined` or `null` = the core's default), computed on a
 * libuv pool thread. Rejects with an Error carrying the core's message (a Rust panic too).
 */
export declare function generateQrCode(text: string, engine?: string | null): Promise<Buffer>;
