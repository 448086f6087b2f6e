// crates/qr-napi/index.d.ts: TypeScript declarations of the tier-3 addon, this crate's `#[napi]`
// exports, loaded from node/build/qr_napi.node (node/tiers/tier-3.js; node/types/consumer.ts shows how
// to type the `require`). Kept next to the Rust source it is generated from, like @napi-rs/cli's
// index.d.ts, since node/build/ is not committed.
// Below this header, the file is exactly what napi-derive emits while compiling the crate (collected
// by `cargo xtask build` into node/build/qr_napi.type-defs.jsonl, one `export declare` per export);
// node/tests/types.test.js fails when they differ and prints the new text to paste.

/**
 * The PNG of `text`, as a `Buffer` (one copy-free hand-over of the Rust allocation). `engine` is
 * parsed by `qr_core::Engine::from_str`; `undefined` means the core's default. Throws an `Error`
 * with the core's message.
 */
export declare function generate(text: string, engine?: string | undefined | null): Buffer

/**
 * Like `generate`, but computed on the libuv thread pool: returns `Promise<Buffer>`, rejected with
 * the core's message.
 */
export declare function generateAsync(text: string, engine?: string | undefined | null): Promise<Buffer>
