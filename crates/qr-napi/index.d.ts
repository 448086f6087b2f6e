// crates/qr-napi/index.d.ts: TypeScript declarations of the tier-3 addon, this crate's `#[napi]`
// exports, loaded from node/build/qr_napi.node (node/tiers/tier-3.js; node/types/consumer.ts shows how
// to type the `require`). Kept next to the Rust source it is generated from, like @napi-rs/cli's
// index.d.ts, since node/build/ is not committed.
// Below this header, the file is exactly what napi-derive emits while compiling the crate (collected
// by `cargo xtask build` into node/build/qr_napi.type-defs.jsonl: `export interface` for the options
// object, `export declare` for each function);
// node/tests/types.test.js fails when they differ and prints the new text to paste.

/** The image options of docs/api.md ("Options"), each optional: absent means its default. */
export interface QrOptions {
  /** `png` (the default) or `svg`, any case. */
  format?: string
  /** The image's exact width and height in pixels, 21 to 1000. */
  size?: number
  /** The quiet zone in modules, 0 to 20 (default 4). */
  margin?: number
  /** `L` (the default), `M`, `Q` or `H`, any case. */
  ecLevel?: string
  /** The dark modules' colour: RRGGBB or RRGGBBAA hex, with or without a leading #. */
  dark?: string
  /** The light modules' and quiet zone's colour, as `dark`. */
  light?: string
}

/**
 * The image of `text`, as a `Buffer` (one copy-free hand-over of the Rust allocation): a PNG, or
 * an SVG document with `format: 'svg'`. `engine` is parsed by `qr_core::Engine::from_str`;
 * `undefined` means the core's default, as does an absent option. Throws an `Error` with the
 * core's message, whose `code` is `InvalidArg` for bad input.
 */
export declare function generate(text: string, engine?: string | undefined | null, options?: QrOptions | undefined | null): Buffer

/**
 * Like `generate`, but computed on the libuv thread pool: returns `Promise<Buffer>`, rejected with
 * the same errors.
 */
export declare function generateAsync(text: string, engine?: string | undefined | null, options?: QrOptions | undefined | null): Promise<Buffer>
