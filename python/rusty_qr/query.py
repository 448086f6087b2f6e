"""The query of the HTTP contract, `text` and the image options (docs/api.md, "Options"), parsed
byte for byte like every other tier.

The one copy of the text rule, the options' rules and the contract's 400 bodies in Python
(node/http/query.js and crates/qr-contract are the others); used by rusty_qr.app and the tiers,
tested by python/tests/test_query.py against contract/cases.json. Every function here is linear in
the length of its input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Callable, NamedTuple

#: The limit on the decoded `text`, in UTF-8 bytes.
MAX_TEXT_BYTES = 512
#: The bounds of `size` (pixels) and `margin` (modules), and the default margin.
MIN_SIZE, MAX_SIZE = 21, 1000
MAX_MARGIN = 20
DEFAULT_MARGIN = 4


def not_once(name: str) -> str:
    """The 400 body of a parameter given more than once, or bracketed."""
    return f'"{name}" query param must be given once, as a plain string'


def size_too_small(minimum: int) -> str:
    """The 400 body of a `size` below the symbol's modules plus twice the margin."""
    return f'"size" must be at least {minimum} pixels for this text, ecLevel and margin'


#: The text's 400 bodies (the contract's `answers`), in the order the checks run.
NOT_ONCE = not_once("text")
MISSING = 'missing "text" query param'
TOO_LONG = f"text must be <= {MAX_TEXT_BYTES} bytes"
NOT_UTF8 = '"text" query param must be valid UTF-8'

_COLOUR_RULE = "must be a hex colour RRGGBB or RRGGBBAA, with or without a leading #"


@dataclass(frozen=True, slots=True)
class Options:
    """A request's image options, normalised: each field at its default unless the query gave it.
    The tiers hand them on through their own boundary (rusty_qr/tiers/__init__.py)."""

    #: `png` or `svg`.
    format: str = "png"
    #: The exact width and height in pixels; None: the smallest whole module size giving 200 px.
    size: int | None = None
    #: The quiet zone, in modules.
    margin: int = DEFAULT_MARGIN
    #: `L`, `M`, `Q` or `H`.
    ec_level: str = "L"
    #: Lowercase `rrggbbaa`.
    dark: str = "000000ff"
    light: str = "ffffffff"

    def changed(self) -> dict[str, str | int]:
        """The options not at their default, by field name (every tier's keyword arguments)."""
        return {
            name: value
            for name, default in _DEFAULTS
            if (value := getattr(self, name)) != default
        }


#: Every option at its default: the options of a query that gives none.
DEFAULT_OPTIONS = Options()
_DEFAULTS = tuple((f.name, getattr(DEFAULT_OPTIONS, f.name)) for f in fields(Options))


class _Option(NamedTuple):
    """One option: its query parameter, its field of Options, the 400 body when its value breaks
    the rule, and its rule as `parse(decoded value) -> normalised value, or None`."""

    param: str
    field: str
    rule: str
    parse: Callable[[bytes], object]


def _one_of(value: bytes, words: tuple[bytes, ...]) -> str | None:
    """The lowercase word of `words` that `value` is in any ASCII case (bytes.lower is ASCII)."""
    lowered = value.lower()
    return lowered.decode("ascii") if lowered in words else None


def _whole_number(value: bytes, low: int, high: int) -> int | None:
    """1 to 4 ASCII digits (leading zeros allowed) making a number from `low` to `high`."""
    if not 1 <= len(value) <= 4 or not value.isdigit():  # bytes.isdigit: ASCII digits only
        return None
    number = int(value)
    return number if low <= number <= high else None


_HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]*")


def _hex_colour(value: bytes) -> str | None:
    """`RRGGBB` or `RRGGBBAA`, any case, after at most one leading '#': lowercase `rrggbbaa`."""
    digits = value[1:] if value[:1] == b"#" else value
    if len(digits) not in (6, 8) or not _HEX_DIGITS.fullmatch(digits):
        return None
    hex_digits = digits.decode("ascii").lower()
    return hex_digits if len(hex_digits) == 8 else hex_digits + "ff"


def _ec_level(value: bytes) -> str | None:
    level = _one_of(value, (b"l", b"m", b"q", b"h"))
    return None if level is None else level.upper()


#: The options, in the order their checks run.
OPTIONS = (
    _Option("format", "format", '"format" must be png or svg', lambda v: _one_of(v, (b"png", b"svg"))),
    _Option(
        "size",
        "size",
        f'"size" must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}',
        lambda v: _whole_number(v, MIN_SIZE, MAX_SIZE),
    ),
    _Option(
        "margin",
        "margin",
        f'"margin" must be a whole number of modules from 0 to {MAX_MARGIN}',
        lambda v: _whole_number(v, 0, MAX_MARGIN),
    ),
    _Option("ecLevel", "ec_level", '"ecLevel" must be L, M, Q or H', _ec_level),
    _Option("dark", "dark", f'"dark" {_COLOUR_RULE}', _hex_colour),
    _Option("light", "light", f'"light" {_COLOUR_RULE}', _hex_colour),
)

#: Every parameter the contract knows by its exact name: `text` is 0, OPTIONS[i] is i + 1.
_PARAMS = {b"text": 0} | {option.param.encode(): i + 1 for i, option in enumerate(OPTIONS)}

_PLUS = 0x2B
_PERCENT = 0x25
_SPACE = 0x20

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
    """The result of `parse_query`: `text` and `options` (valid), or `error` (the 400 body)."""

    text: str | None = None
    options: Options | None = None
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


def parse_query(raw_query: bytes | str) -> Parsed:
    """Finds `text` and the options in a raw query (the bytes after the first '?', without it).

    The algorithm (identical in node/http/query.js and crates/qr-server): split on '&', skip empty
    pieces; name = before the first '=', value = after it ('' if there is none); form-decode both
    (a value only for the first of its name, once the pass is over). A decoded name equal to a known
    parameter's is that parameter, one starting with its name and '[' that parameter bracketed,
    other names are ignored. Checks, in order, the first failure answering: `text` bracketed or
    repeated -> NOT_ONCE, none or empty -> MISSING, > 512 bytes -> TOO_LONG, not UTF-8 -> NOT_UTF8;
    then for each option in OPTIONS' order, bracketed or repeated -> its not_once message, a value
    that breaks its rule -> its rule. A str is taken as latin-1, one character per received byte
    (as WSGI gives the target).
    """
    raw = raw_query.encode("latin-1") if isinstance(raw_query, str) else bytes(raw_query)
    # The raw value's (start, end) of each parameter's first occurrence, by its index in _PARAMS.
    first: list[tuple[int, int] | None] = [None] * len(_PARAMS)
    not_once_bits = 0  # bit i: parameter i was repeated or bracketed
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
            index = _PARAMS.get(name)
            if index is None:
                bracket = _find(name, b"[", 0, len(name))
                if bracket != -1:
                    index = _PARAMS.get(name[:bracket])
                    if index is not None:
                        not_once_bits |= 1 << index
            elif first[index] is None:
                first[index] = (min(eq + 1, end), end)
            else:
                not_once_bits |= 1 << index
        start = end + 1

    if not_once_bits & 1:
        return Parsed(error=NOT_ONCE)
    value = b"" if first[0] is None else form_decode(raw, *first[0])
    if not value:
        return Parsed(error=MISSING)
    if len(value) > MAX_TEXT_BYTES:
        return Parsed(error=TOO_LONG)
    try:
        # Python's strict UTF-8 refuses surrogates and overlong forms, and keeps a leading BOM.
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return Parsed(error=NOT_UTF8)

    given: dict[str, object] = {}
    for index, option in enumerate(OPTIONS, 1):
        if not_once_bits >> index & 1:
            return Parsed(error=not_once(option.param))
        span = first[index]
        if span is not None:
            normalised = option.parse(form_decode(raw, *span))
            if normalised is None:
                return Parsed(error=option.rule)
            given[option.field] = normalised
    return Parsed(text, Options(**given) if given else DEFAULT_OPTIONS)


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
