// The `text` query parameter of the HTTP contract, parsed byte for byte like the Rust tiers do.
// Used by node/http/app.js; unit-tested by node/tests/query.test.js (`npm test`).
'use strict';

/** The limit on the decoded `text`, in UTF-8 bytes. */
const MAX_TEXT_BYTES = 512;

/** The 400 bodies, in the order the checks run. */
const MESSAGES = Object.freeze({
  notOnce: '"text" query param must be given once, as a plain string',
  missing: 'missing "text" query param',
  tooLong: `text must be <= ${MAX_TEXT_BYTES} bytes`,
  notUtf8: '"text" query param must be valid UTF-8',
});

// `fatal: true` makes invalid UTF-8 throw instead of turning into U+FFFD;
// `ignoreBOM: true` keeps a leading U+FEFF as part of the text.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const PLUS = 0x2b;
const PERCENT = 0x25;
const SPACE = 0x20;
const TEXT = Buffer.from('text', 'latin1');
const TEXT_BRACKET = Buffer.from('text[', 'latin1');

/** The value of one hex digit's byte, or -1. */
function hexValue(byte) {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30; // 0-9
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10; // A-F
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10; // a-f
  return -1;
}

/**
 * Decodes bytes[start..end) as application/x-www-form-urlencoded into a new Buffer:
 * '+' is a space, %XX is the byte XX, and a '%' not followed by two hex digits stays literally.
 */
function formDecode(bytes, start, end) {
  const out = Buffer.allocUnsafe(end - start); // decoding never makes it longer
  let n = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if (byte === PLUS) {
      out[n++] = SPACE;
    } else if (byte === PERCENT && i + 2 < end) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
      } else {
        out[n++] = byte;
      }
    } else {
      out[n++] = byte;
    }
  }
  return out.subarray(0, n);
}

/**
 * Finds the `text` parameter in a raw query (the bytes after the first '?', without the '?').
 * Returns `{ text }` (a string, at most 512 UTF-8 bytes, never empty) or `{ error }` (the 400 body).
 *
 * The algorithm (identical in crates/qr-server): split on '&', skip empty pieces; name = before the
 * first '=', value = after it ('' if there is none); form-decode both. A decoded name equal to
 * `text` is a text param, one starting with `text[` is a bracketed text, other names are ignored.
 * Checks, in order: bracketed or repeated -> notOnce; none or empty -> missing;
 * > 512 bytes -> tooLong; not UTF-8 -> notUtf8.
 */
function parseTextParam(rawQuery) {
  const bytes = typeof rawQuery === 'string' ? Buffer.from(rawQuery, 'latin1') : rawQuery;
  let value = null; // the decoded value of the first text param
  let texts = 0;
  let bracketed = false;
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x26 /* & */, start);
    if (end === -1) end = bytes.length;
    if (end > start) {
      // Searched within the piece only: from `start` to the end of the query would make a query of many
      // `&`-separated pieces without '=' cost quadratic time.
      const eqInPiece = bytes.subarray(start, end).indexOf(0x3d /* = */);
      const eq = eqInPiece === -1 ? end : start + eqInPiece;
      const name = formDecode(bytes, start, eq);
      if (name.equals(TEXT)) {
        texts += 1;
        if (value === null) value = eq < end ? formDecode(bytes, eq + 1, end) : Buffer.alloc(0);
      } else if (name.length >= TEXT_BRACKET.length && name.subarray(0, TEXT_BRACKET.length).equals(TEXT_BRACKET)) {
        bracketed = true;
      }
    }
    start = end + 1;
  }

  if (bracketed || texts > 1) return { error: MESSAGES.notOnce };
  if (value === null || value.length === 0) return { error: MESSAGES.missing };
  if (value.length > MAX_TEXT_BYTES) return { error: MESSAGES.tooLong };
  try {
    return { text: utf8.decode(value) };
  } catch {
    return { error: MESSAGES.notUtf8 };
  }
}

/**
 * The raw query of a request target: the part after the first '?' and before a '#' (a fragment is not part
 * of the query; hyper's `Uri::query()` in tier-4 stops there too), or empty.
 * Node's HTTP parser gives the target as a latin1 string, one char per received byte.
 */
function rawQueryOf(url) {
  const hash = url.indexOf('#');
  const target = hash === -1 ? url : url.slice(0, hash);
  const q = target.indexOf('?');
  return q === -1 ? '' : target.slice(q + 1);
}

module.exports = { parseTextParam, rawQueryOf, formDecode, MESSAGES, MAX_TEXT_BYTES };
