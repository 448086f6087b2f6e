// node/tiers/tier-3-async.d.ts: TypeScript declarations of node/tiers/tier-3-async.js (tier 3 on libuv's
// thread pool). Checked by node/tests/types.test.js.

import type { ImageOptions } from './options-record';

/**
 * The image of `text` with the named engine (`undefined` or `null` = the core's default) and the options
 * given, computed on a libuv pool thread. Rejects with an Error carrying the core's message (`code:
 * 'BAD_INPUT'` for bad input; a Rust panic too, as a failure).
 */
export declare function generateQrCode(text: string, engine?: string | null, options?: ImageOptions | null): Promise<Buffer>;
