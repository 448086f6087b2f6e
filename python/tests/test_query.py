"""rusty_qr.query against every case of contract/cases.json that is about the query alone (as
node/tests/query.test.js does), the options' rules value by value (as qr_contract's own tests),
and its running time counted in bytes searched, not seconds."""

from __future__ import annotations

import pytest

from conftest import CONTRACT, cases, percent_encode
from rusty_qr import query
from rusty_qr.query import DEFAULT_OPTIONS, OPTIONS, Options, parse_query, raw_path_of, raw_query_of

WORDS = {k: v["body"] for k, v in CONTRACT["answers"].items()}

QUERY_CASES = [
    c for c in cases() if c.method == "GET" and c.target.startswith("/qrcode?") and c.status is None
]


def _is_parser_case(c) -> bool:
    # Cases the HTTP layer answers before the query is parsed: raw non-ASCII (badTarget) and the
    # head limit (431, a status case, already left out); and the size a symbol needs, which the
    # tier tells (the query is valid).
    return c.answer is None or c.answer["body"] not in (WORDS["badTarget"], *_SIZE_TOO_SMALL)


_SIZE_TOO_SMALL = [body for key, body in WORDS.items() if key.startswith("sizeTooSmall")]
_IMAGE_FIELDS = {"size": "size", "margin": "margin", "ecLevel": "ec_level", "dark": "dark", "light": "light"}


@pytest.mark.parametrize("case", [c for c in QUERY_CASES if _is_parser_case(c)], ids=lambda c: c.name)
def test_every_query_case_of_the_contract(case):
    parsed = parse_query(raw_query_of(case.target))
    if case.image_text is not None:
        assert (parsed.text, parsed.error) == (case.image_text, None)
        assert parsed.options.format == ("png" if case.png is not None else "svg")
        for key, value in case.image.items():
            assert getattr(parsed.options, _IMAGE_FIELDS[key]) == value, key
        if case.same_as is not None:
            assert parsed.options == parse_query(case.same_as).options
    else:
        assert parsed == (None, None, case.answer["body"])


def test_a_size_too_small_for_the_symbol_is_a_valid_query():
    for body in _SIZE_TOO_SMALL:
        named = [c for c in QUERY_CASES if c.answer is not None and c.answer["body"] == body]
        assert named, body
        for case in named:
            assert parse_query(raw_query_of(case.target)).error is None, case.name


def test_options_are_normalised():
    parsed = parse_query("text=a&format=SvG&size=0300&margin=02&ecLevel=h&dark=%230B3D91&light=FFFFFF00")
    assert parsed == ("a", Options("svg", 300, 2, "H", "0b3d91ff", "ffffff00"), None)
    assert parse_query("text=a").options is DEFAULT_OPTIONS
    assert parse_query("text=a&eclevel=H&Size=1&light%5B=x").error == WORDS["notOnceLight"]
    assert parse_query("text=a&eclevel=H&Size=1").options is DEFAULT_OPTIONS
    defaults = parse_query("text=a&format=png&margin=4&ecLevel=L&dark=000000&light=ffffffff").options
    assert defaults == DEFAULT_OPTIONS and defaults.changed() == {}
    assert parsed.options.changed() == {
        "format": "svg", "size": 300, "margin": 2, "ec_level": "H", "dark": "0b3d91ff", "light": "ffffff00"}


# Each rule value by value: crates/qr-contract/src/options.rs's tests, the same values.
RULES = {
    "format": (["svg", "SVG", "png", "PnG"], ["", "jpeg", "svg ", "sv", "svg%00", "%C5%BFvg"]),
    "size": (["21", "0300", "1000", "0021"], ["", "20", "1001", "01000", "%2B300", "-1", "3e2", "300.0", "+300",
                                            "300px", "%D9%A3", "%EF%BC%93%EF%BC%90%EF%BC%90"]),
    "margin": (["0", "20", "0004"], ["", "21", "-0", "4.0", "99999"]),
    "ecLevel": (["l", "M", "q", "H"], ["", "X", "HH", "0", "high", "%C4%B1"]),
    "dark": (["0B3D91", "%230b3d9180", "ffffff00", "ABCDEF"],
             ["", "%23", "fff", "%23%23000000", "0000000", "00000g", "%2B12345", "%C3%A90000", " 000000", "0x0000"]),
}


@pytest.mark.parametrize("param", RULES, ids=str)
def test_each_rule_value_by_value(param):
    good, bad = RULES[param]
    rule = next(o.rule for o in OPTIONS if o.param == param)
    for value in good:
        assert parse_query(f"text=a&{param}={value}").error is None, value
    for value in bad:
        assert parse_query(f"text=a&{param}={value}").error == rule, value
    assert parse_query(f"text=a&{param}=x&{param}=y").error == query.not_once(param)
    assert parse_query(f"text=a&{param}[0]={good[0]}").error == query.not_once(param)


def test_the_table_is_really_covered():
    names = {c.name for c in QUERY_CASES if _is_parser_case(c)}
    # One of each kind of answer, so a filter above cannot silently drop a kind.
    for name in ("'+' is a space", "repeated text", "513 ASCII bytes", "invalid UTF-8 %FF",
                 "empty text", "60 KB URL (heads up to 64 KiB reach the app)", "edge text 1"):
        assert name in names, name


def test_messages_are_the_contracts():
    assert query.NOT_ONCE == WORDS["notOnce"]
    assert query.MISSING == WORDS["missing"]
    assert query.TOO_LONG == WORDS["tooLong"]
    assert query.NOT_UTF8 == WORDS["notUtf8"]
    for option in OPTIONS:
        key = "bad" + option.param[0].upper() + option.param[1:]
        assert option.rule == WORDS[key], option.param
    assert query.not_once("size") == WORDS["notOnceSize"]
    assert query.size_too_small(29) == WORDS["sizeTooSmall29"]


def test_round_trips_every_byte_percent_encoded():
    text = "".join(chr(c) for c in range(1, 0x80)) + "é漢😀\x00"
    assert parse_query("text=" + percent_encode(text)).text == text


@pytest.mark.parametrize(
    "target, path, raw_query",
    [
        ("/qrcode?text=a", "/qrcode", "text=a"),
        ("/qrcode?text=frag#ment", "/qrcode", "text=frag"),
        ("/qr%63ode?text=a", "/qr%63ode", "text=a"),
        ("http://example.com/qrcode?text=absolute", "/qrcode", "text=absolute"),
        ("http://example.com?x=1", "/", "x=1"),
        ("/qrcode", "/qrcode", ""),
        ("/qrcode?", "/qrcode", ""),
        ("/qrcode?a?b", "/qrcode", "a?b"),
        ("/#x?y", "/", ""),
    ],
)
def test_raw_path_and_query_of_a_target(target, path, raw_query):
    assert raw_path_of(target) == path
    assert raw_query_of(target) == raw_query


class CountingFind:
    """Wraps query._find and adds up the bytes each search looks at."""

    def __init__(self):
        self.searched = 0

    def __call__(self, raw, sub, start, end):
        found = raw.find(sub, start, end)
        self.searched += (found + len(sub) if found != -1 else end) - start
        return found


ADVERSARIAL = {
    "many pieces without '='": lambda n: "&".join(["a"] * (n // 2)),
    "many empty pieces": lambda n: "&" * n,
    "one long name": lambda n: "a" * n + "=b",
    "many '%' and one '+' at the end": lambda n: "text=" + "%" * n + "+",
    "many '+' and one '%' at the end": lambda n: "text=" + "+" * n + "%41",
    "alternating escapes": lambda n: "text=" + "%41+" * (n // 4),
    "many pieces with '%' names": lambda n: "&".join(["%2"] * (n // 3)),
    "many texts": lambda n: "&".join(["text=a"] * (n // 7)),
    "many bracketed options": lambda n: "text=a&" + "&".join(["size[]=1"] * (n // 9)),
    "many repeated options": lambda n: "text=a&" + "&".join(["light=%23fff"] * (n // 13)),
    "one long option value": lambda n: "text=a&dark=" + "%23" * (n // 3),
}


@pytest.mark.parametrize("shape", ADVERSARIAL, ids=str)
def test_parsing_is_linear_in_the_query_length(shape, monkeypatch):
    """Bytes searched per query byte stay bounded as the query grows 16-fold; a search that
    restarted at the start of the query, or ran to its end from each piece, would grow with it."""
    ratios = []
    for n in (4_000, 64_000):
        counter = CountingFind()
        monkeypatch.setattr(query, "_find", counter)
        raw = ADVERSARIAL[shape](n)
        parse_query(raw)
        ratios.append(counter.searched / len(raw))
    assert ratios[1] <= 8, ratios
    assert ratios[1] <= ratios[0] * 1.5 + 0.5, ratios


def test_the_counter_sees_a_quadratic_search():
    """The counter itself can fail: a search from the start of the query for each piece (the bug
    node/http/query.js's comment warns about) counts far more than 8 bytes per byte."""
    counter = CountingFind()
    raw = ("&".join(["a"] * 2000)).encode()
    start = 0
    while start <= len(raw):
        end = counter(raw, b"&", start, len(raw))
        end = len(raw) if end == -1 else end
        counter(raw, b"=", start, len(raw))  # searched to the end of the query, not the piece
        start = end + 1
    assert counter.searched / len(raw) > 100
