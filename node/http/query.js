// The query of the HTTP contract: `text` and the image options (docs/api.md, "Options"), parsed byte for byte like
// the Rust tiers do (crates/qr-server/src/query.rs, with the rules and messages of crates/qr-contract/src/options.rs).
// Used by node/http/answers.js and fastify-app.js; unit-tested by node/tests/query.test.js (`npm test`).
'use strict';

/** The limit on the decoded `text`, in UTF-8 bytes. */
const MAX_TEXT_BYTES = 512;

/** The text's 400 bodies, in the order the checks run. */
const MESSAGES = Object.freeze({
  notOnce: '"text" query param must be given once, as a plain string',
  missing: 'missing "text" query param',
  tooLong: `text must be <= ${MAX_TEXT_BYTES} bytes`,
  notUtf8: '"text" query param must be valid UTF-8',
});

const COLOUR_RULE = 'must be a hex colour RRGGBB or RRGGBBAA, with or without a leading #';

/**
 * The options, in the order their checks run: the query parameter's exact name, the 400 body when its value breaks
 * the rule, and `parse(bytes)`, the normalised value of a form-decoded value, or undefined when it breaks the rule.
 */
const OPTIONS = Object.freeze([
  { name: 'format', rule: '"format" must be png or svg', parse: (v) => oneOf(v, ['png', 'svg']) },
  { name: 'size', rule: '"size" must be a whole number of pixels from 21 to 1000', parse: (v) => wholeNumber(v, 21, 1000) },
  { name: 'margin', rule: '"margin" must be a whole number of modules from 0 to 20', parse: (v) => wholeNumber(v, 0, 20) },
  { name: 'ecLevel', rule: '"ecLevel" must be L, M, Q or H', parse: (v) => oneOf(v, ['l', 'm', 'q', 'h'])?.toUpperCase() },
  { name: 'dark', rule: `"dark" ${COLOUR_RULE}`, parse: hexColour },
  { name: 'light', rule: `"light" ${COLOUR_RULE}`, parse: hexColour },
]);

/** The 400 body of a parameter given more than once, or bracketed. */
function notOnceMessage(name) {
  return `"${name}" query param must be given once, as a plain string`;
}

/** The options of a request that gives none: shared, so the default path allocates nothing for them. */
const NO_OPTIONS = Object.freeze({});

// `fatal: true` makes invalid UTF-8 throw instead of turning into U+FFFD;
// `ignoreBOM: true` keeps a leading U+FEFF as part of the text.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const PLUS = 0x2b;
const PERCENT = 0x25;
const SPACE = 0x20;
const HASH = 0x23;
const BRACKET = 0x5b;
/** Every parameter the contract knows, `text` first (index 0), then the options (index i + 1 is OPTIONS[i]). */
const PARAM_NAMES = ['text', ...OPTIONS.map((option) => option.name)].map((name) => Buffer.from(name, 'latin1'));

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

/** The index in PARAM_NAMES of the parameter named exactly bytes[0..end), or -1. Compared here, byte by byte:
 * faster than Buffer#equals for names this short. */
function paramIndex(bytes, end) {
  candidates: for (let i = 0; i < PARAM_NAMES.length; i++) {
    const candidate = PARAM_NAMES[i];
    if (candidate.length !== end) continue;
    for (let j = 0; j < end; j++) if (bytes[j] !== candidate[j]) continue candidates;
    return i;
  }
  return -1;
}

/** The byte in ASCII lowercase. */
function asciiLower(byte) {
  return byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte; // A-Z
}

/** The lowercase word of `words` that `value` is in any ASCII case, or undefined. */
function oneOf(value, words) {
  return words.find((word) => word.length === value.length && value.every((b, i) => asciiLower(b) === word.charCodeAt(i)));
}

/** 1 to 4 ASCII digits (leading zeros allowed) making a number from `min` to `max`, or undefined. */
function wholeNumber(value, min, max) {
  if (value.length === 0 || value.length > 4 || !value.every((b) => b >= 0x30 && b <= 0x39)) return undefined;
  const n = Number(value.toString('latin1'));
  return n >= min && n <= max ? n : undefined;
}

/** `RRGGBB` or `RRGGBBAA`, any case, after at most one leading '#': lowercase `rrggbbaa`, or undefined. */
function hexColour(value) {
  const digits = value[0] === HASH ? value.subarray(1) : value;
  if ((digits.length !== 6 && digits.length !== 8) || !digits.every((b) => hexValue(b) >= 0)) return undefined;
  const hex = digits.toString('latin1').toLowerCase();
  return hex.length === 6 ? `${hex}ff` : hex;
}

/**
 * Parses a raw query (the bytes after the first '?', without the '?'): `text` and the options.
 * Returns `{ text, options }` or `{ error }` (the 400 body). `text` is a string of 1 to 512 UTF-8 bytes; `options`
 * holds only the options the query gives, normalised: `{ format: 'png' | 'svg', size: number, margin: number,
 * ecLevel: 'L' | 'M' | 'Q' | 'H', dark: 'rrggbbaa', light: 'rrggbbaa' }` (lowercase hex).
 *
 * The algorithm (identical in crates/qr-server): split on '&', skip empty pieces; name = before the first '=',
 * value = after it ('' if there is none); form-decode both. A decoded name equal to a known parameter's is that
 * parameter, one starting with its name and '[' is that parameter bracketed, other names are ignored.
 * Checks, in order, the first failure answering: `text` bracketed or repeated -> notOnce, none or empty -> missing,
 * > 512 bytes -> tooLong, not UTF-8 -> notUtf8; then for each option in OPTIONS' order, bracketed or repeated ->
 * its notOnce message, a value that breaks its rule -> its rule.
 */
function parseQuery(rawQuery) {
  const bytes = typeof rawQuery === 'string' ? Buffer.from(rawQuery, 'latin1') : rawQuery;
  let given = 0; // bit i: PARAM_NAMES[i] was given
  let notOnce = 0; // bit i: PARAM_NAMES[i] was repeated or bracketed
  let textStart = 0; // the raw value of the first `text`: [textStart, textEnd)
  let textEnd = 0;
  let optionValues = null; // optionValues[2i], [2i + 1]: the raw value of OPTIONS[i]'s first occurrence
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
      const exact = paramIndex(name, name.length);
      if (exact !== -1) {
        const bit = 1 << exact;
        const valueStart = Math.min(eq + 1, end);
        if (given & bit) {
          notOnce |= bit;
        } else if (exact === 0) {
          textStart = valueStart;
          textEnd = end;
        } else {
          optionValues ??= [];
          optionValues[2 * exact - 2] = valueStart;
          optionValues[2 * exact - 1] = end;
        }
        given |= bit;
      } else {
        const bracket = name.indexOf(BRACKET);
        const bracketed = bracket === -1 ? -1 : paramIndex(name, bracket);
        if (bracketed !== -1) notOnce |= 1 << bracketed;
      }
    }
    start = end + 1;
  }

  if (notOnce & 1) return { error: MESSAGES.notOnce };
  const value = given & 1 ? formDecode(bytes, textStart, textEnd) : null;
  if (value === null || value.length === 0) return { error: MESSAGES.missing };
  if (value.length > MAX_TEXT_BYTES) return { error: MESSAGES.tooLong };
  let text;
  try {
    text = utf8.decode(value);
  } catch {
    return { error: MESSAGES.notUtf8 };
  }
  if ((given | notOnce) === 1) return { text, options: NO_OPTIONS };

  const options = {};
  for (let i = 0; i < OPTIONS.length; i++) {
    const bit = 1 << (i + 1);
    const option = OPTIONS[i];
    if (notOnce & bit) return { error: notOnceMessage(option.name) };
    if (given & bit) {
      const parsed = option.parse(formDecode(bytes, optionValues[2 * i], optionValues[2 * i + 1]));
      if (parsed === undefined) return { error: option.rule };
      options[option.name] = parsed;
    }
  }
  return { text, options };
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

/**
 * The path of a request target, still percent-encoded: origin-form (`/p?q`) or absolute-form (`http://host/p?q`,
 * whose path is '/' when it has none), without its query and fragment.
 */
function rawPathOf(target) {
  const path = target.split(/[?#]/, 1)[0];
  if (path.startsWith('/')) return path;
  const schemeEnd = path.indexOf('://');
  if (schemeEnd === -1) return path;
  const slash = path.indexOf('/', schemeEnd + 3);
  return slash === -1 ? '/' : path.slice(slash);
}

module.exports = { parseQuery, rawPathOf, rawQueryOf, formDecode, notOnceMessage, MESSAGES, OPTIONS, MAX_TEXT_BYTES };
