// The image options as the 16-byte record the Rust side decodes (qr_core's `record`, laid out in
// crates/qr-contract/src/record.rs): the one encoder in JS, used by the sidecar's request frames
// (sidecar/framing.js) and by the Wasm ABI's options pointer (qr-wasm-abi.js, in Node and in the browser
// playground, where `<script src="options-record.js">` defines `QrOptionsRecord`).
//
//   offset 0  u8      format: 0 png, 1 svg          offset 4   u32 LE  size in pixels, 0 = the default
//   offset 1  u8      ecLevel: 0 L, 1 M, 2 Q, 3 H   offset 8   4 x u8  dark: red, green, blue, alpha
//   offset 2  u8      margin, in modules            offset 12  4 x u8  light: red, green, blue, alpha
//   offset 3  u8      0 (reserved)
//
// It takes the options object a tier is handed: only the options the request gave, already validated and
// normalised by the server (node/http/query.js: format 'png' | 'svg', ecLevel 'L' | 'M' | 'Q' | 'H', colours
// as 8 lowercase hex digits rrggbbaa). It checks no rule: the Rust side decodes the record with
// `record::decode`, which refuses a byte no option has and a size or margin out of bounds (a value that is
// not one of the names below is written as such a byte). Only a colour, which any 4 bytes would carry, must
// be 8 hex digits, or the call throws.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.QrOptionsRecord = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  /** The record's length in bytes. */
  const RECORD_LEN = 16;
  /** The byte of each name; a name not here is written as NOT_AN_OPTION, which the Rust side refuses. */
  const FORMATS = new Map([['png', 0], ['svg', 1]]);
  const EC_LEVELS = new Map([['L', 0], ['M', 1], ['Q', 2], ['H', 3]]);
  const NOT_AN_OPTION = 0xff;
  /** The defaults the record has no "absent" value for (qr-contract: DEFAULT_MARGIN, Rgba::BLACK, Rgba::WHITE). */
  const DEFAULT_MARGIN = 4;
  const DEFAULT_DARK = '000000ff';
  const DEFAULT_LIGHT = 'ffffffff';
  const HEX_RGBA = /^[0-9a-fA-F]{8}$/;

  /** Whether `options` gives any option: undefined, null and {} give none. */
  function hasOptions(options) {
    if (options == null) return false;
    for (const name in options) if (options[name] !== undefined) return true;
    return false;
  }

  /** Writes the colour `hex` (rrggbbaa) as its 4 bytes at `offset`. */
  function writeColour(name, hex, bytes, offset) {
    if (typeof hex !== 'string' || !HEX_RGBA.test(hex)) {
      throw new TypeError(`options.${name} must be 8 hex digits (rrggbbaa), as the server normalises it: ${hex}`);
    }
    const rgba = Number.parseInt(hex, 16);
    bytes[offset] = rgba >>> 24;
    bytes[offset + 1] = (rgba >>> 16) & 0xff;
    bytes[offset + 2] = (rgba >>> 8) & 0xff;
    bytes[offset + 3] = rgba & 0xff;
  }

  /** Writes the record of `options` into `bytes` (a Uint8Array or Buffer) at `offset`. */
  function writeRecord(options, bytes, offset) {
    const { format, ecLevel, margin = DEFAULT_MARGIN, size = 0, dark = DEFAULT_DARK, light = DEFAULT_LIGHT } = options ?? {};
    bytes[offset] = format === undefined ? FORMATS.get('png') : (FORMATS.get(format) ?? NOT_AN_OPTION);
    bytes[offset + 1] = ecLevel === undefined ? EC_LEVELS.get('L') : (EC_LEVELS.get(ecLevel) ?? NOT_AN_OPTION);
    // A margin or size that is not a whole number in the field's range is written as one the Rust side refuses
    // (never wrapped or truncated into an accepted one).
    bytes[offset + 2] = Number.isInteger(margin) && margin >= 0 ? Math.min(margin, NOT_AN_OPTION) : NOT_AN_OPTION;
    bytes[offset + 3] = 0;
    const pixels = Number.isInteger(size) && size >= 0 && size <= 0xffffffff ? size : 0xffffffff;
    bytes[offset + 4] = pixels & 0xff;
    bytes[offset + 5] = (pixels >>> 8) & 0xff;
    bytes[offset + 6] = (pixels >>> 16) & 0xff;
    bytes[offset + 7] = (pixels >>> 24) & 0xff;
    writeColour('dark', dark, bytes, offset + 8);
    writeColour('light', light, bytes, offset + 12);
  }

  /** The record of `options`, as a new Uint8Array. */
  function encodeRecord(options) {
    const bytes = new Uint8Array(RECORD_LEN);
    writeRecord(options, bytes, 0);
    return bytes;
  }

  /** The record of no options, made once: what a request without options carries (copy it; never change it). */
  const DEFAULT_RECORD = encodeRecord(undefined);

  return { RECORD_LEN, DEFAULT_RECORD, hasOptions, writeRecord, encodeRecord };
});
