"""The `text` query parameter of the HTTP contract, parsed byte for byte like every other tier.

The one copy of the text rule in Python (node/http/query.js and qr_contract::text are the others);
used by rusty_qr.app, tested by python/tests/test_query.py against contract/cases.json.
Every function here is linear in the length of its input.
"""

from __future__ import annotations

from typing import NamedTuple

#: The limit on the decoded `text`, in UTF-8 bytes.
MAX_TEXT_BYTES = 512

#: The 400 bodies (the contract's `answers`), in the order the checks run.
NOT_ONCE = '"text" query param must be given once, as a plain string'
MISSING = 'missing "text" query param'
TOO_LONG = f"text must be <= {MAX_TEXT_BYTES} bytes"
NOT_UTF8 = '"text" query param must be valid UTF-8'

_PLUS = 0x2B
_PERCENT = 0x25
_SPACE = 0x20
_TEXT = b"text"
_TEXT_BRACKET = b"text["

# The value of each byte as a hex digit, or -1 (a table: one lookup per byte).
_HEX = [-1] * 256
for _i, _c in enumerate(b"0123456789"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i
    _HEX[_c - 0x20] = 10 + _i  # A-F


def _find(raw: bytes, sub: bytes, start: int, end: int) -> int:
    """raw.find(sub, start, end): every search of this module goes through here, so that a test
    can add up the bytes searched (python/tests/test_query.py proves the total linear)."""
    return raw.find(sub, start, end)


class Parsed(NamedTuple):
    """The result of `parse_text_param`: exactly one of `text` (valid) and `error` (the 400 body)."""

    text: str | None = None
    error: str | None = None


def form_decode(raw: bytes, start: int = 0, end: int | None = None) -> bytes:
    """Decodes raw[start:end] as application/x-www-form-urlencoded: '+' is a space, %XX is the
    byte XX, and a '%' not followed by two hex digits stays literally.

    Linear: runs without '%' or '+' are copied as slices, and the next '%' and the next '+' are
    each searched for again only once passed, so no byte is scanned more than twice.
    """
    if end is None:
        end = len(raw)
    next_pct = _find(raw, b"%", start, end)
    next_plus = _find(raw, b"+", start, end)
    if next_pct == -1 and next_plus == -1:
        return bytes(raw[start:end])  # the common case: nothing to decode
    out = bytearray()
    i = start
    while i < end:
        if next_pct != -1 and next_pct < i:
            next_pct = _find(raw, b"%", i, end)
        if next_plus != -1 and next_plus < i:
            next_plus = _find(raw, b"+", i, end)
        special = min(next_pct if next_pct != -1 else end, next_plus if next_plus != -1 else end)
        out += raw[i:special]
        if special == end:
            break
        if special == next_plus:
            out.append(_SPACE)
            i = special + 1
            continue
        # A '%' followed by two hex digits (within the piece) is the byte they spell.
        if special + 2 < end:
            hi = _HEX[raw[special + 1]]
            lo = _HEX[raw[special + 2]]
            if hi >= 0 and lo >= 0:
                out.append(hi << 4 | lo)
                i = special + 3
                continue
        out.append(_PERCENT)
        i = special + 1
    return bytes(out)


def parse_text_param(raw_query: bytes | str) -> Parsed:
    """Finds the `text` parameter in a raw query (the bytes after the first '?', without it).

    The algorithm (identical in node/http/query.js and crates/qr-server): split on '&', skip empty
    pieces; name = before the first '=', value = after it ('' if there is none); form-decode both.
    A decoded name equal to `text` is a text param, one starting with `text[` a bracketed text,
    other names are ignored. Checks, in order: bracketed or repeated -> NOT_ONCE; none or empty ->
    MISSING; > 512 bytes -> TOO_LONG; not UTF-8 -> NOT_UTF8. A str is taken as latin-1, one
    character per received byte (as WSGI gives the target).
    """
    raw = raw_query.encode("latin-1") if isinstance(raw_query, str) else bytes(raw_query)
    value: bytes | None = None  # the decoded value of the first text param
    texts = 0
    bracketed = False
    start = 0
    length = len(raw)
    while start <= length:
        end = _find(raw, b"&", start, length)
        if end == -1:
            end = length
        if end > start:
            # Searched within the piece only: a query of many '&'-separated pieces without '='
            # would otherwise cost quadratic time.
            eq = _find(raw, b"=", start, end)
            if eq == -1:
                eq = end
            name = form_decode(raw, start, eq)
            if name == _TEXT:
                texts += 1
                if value is None:
                    value = form_decode(raw, eq + 1, end) if eq < end else b""
            elif name.startswith(_TEXT_BRACKET):
                bracketed = True
        start = end + 1

    if bracketed or texts > 1:
        return Parsed(error=NOT_ONCE)
    if not value:
        return Parsed(error=MISSING)
    if len(value) > MAX_TEXT_BYTES:
        return Parsed(error=TOO_LONG)
    try:
        # Python's strict UTF-8 refuses surrogates and overlong forms, and keeps a leading BOM.
        return Parsed(text=value.decode("utf-8"))
    except UnicodeDecodeError:
        return Parsed(error=NOT_UTF8)


def raw_query_of(target: str) -> str:
    """The raw query of a request target: after the first '?' and before a '#' (a fragment is
    not part of the query), or ''."""
    hash_at = target.find("#")
    if hash_at != -1:
        target = target[:hash_at]
    q = target.find("?")
    return "" if q == -1 else target[q + 1 :]


def raw_path_of(target: str) -> str:
    """The path of a request target, still percent-encoded: origin-form (`/p?q`) or absolute-form
    (`http://host/p?q`, whose path is '/' when it has none), without query and fragment."""
    for stop in ("#", "?"):
        at = target.find(stop)
        if at != -1:
            target = target[:at]
    if not target.startswith("/"):
        scheme_end = target.find("://")
        if scheme_end != -1:
            slash = target.find("/", scheme_end + 3)
            return "/" if slash == -1 else target[slash:]
    return target
