// node/tiers/options-record.d.ts: TypeScript declarations of node/tiers/options-record.js (the image options as
// the 16-byte record of qr_core's `record`), and the options object every tier module is handed. Checked by
// node/tests/types.test.js.

/**
 * The image options a request gave, already validated and normalised by the server (node/http/query.js): only
 * the options given are present (none: `{}`, or undefined). docs/api.md ("Options") states the rules.
 */
export interface ImageOptions {
  format?: 'png' | 'svg';
  /** The image's exact width and height in pixels (21 to 1000). */
  size?: number;
  /** The quiet zone in modules (0 to 20). */
  margin?: number;
  ecLevel?: 'L' | 'M' | 'Q' | 'H';
  /** `rrggbbaa`: 8 lowercase hex digits. */
  dark?: string;
  /** `rrggbbaa`: 8 lowercase hex digits. */
  light?: string;
}

/** The record's length in bytes (16). */
export declare const RECORD_LEN: number;

/** The record of no options, made once (copy it; never change it). */
export declare const DEFAULT_RECORD: Uint8Array;

/** Whether `options` gives any option: undefined, null and {} give none. */
export declare function hasOptions(options?: ImageOptions | null): boolean;

/**
 * Writes the record of `options` into `bytes` at `offset`. Throws a TypeError if a colour is not 8 hex digits;
 * any other value the record cannot hold is written as a byte the Rust side refuses.
 */
export declare function writeRecord(options: ImageOptions | null | undefined, bytes: Uint8Array, offset: number): void;

/** The record of `options`, as a new Uint8Array. */
export declare function encodeRecord(options?: ImageOptions | null): Uint8Array;
