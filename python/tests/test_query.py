"""rusty_qr.query against every case of contract/cases.json that is about the query alone (as
node/tests/query.test.js does), and its running time counted in bytes searched, not seconds."""

from __future__ import annotations

import pytest

from conftest import cases, percent_encode
from rusty_qr import query
from rusty_qr.query import parse_text_param, raw_path_of, raw_query_of

QUERY_CASES = [
    c for c in cases() if c.method == "GET" and c.target.startswith("/qrcode?") and c.status is None
]


def _is_parser_case(c) -> bool:
    # Cases the HTTP layer answers before the query is parsed: raw non-ASCII (badTarget) and the
    # head limit (431, a status case, already left out).
    return c.answer is None or c.answer["body"] != "request target must be printable ASCII (percent-encode the text)"


@pytest.mark.parametrize("case", [c for c in QUERY_CASES if _is_parser_case(c)], ids=lambda c: c.name)
def test_every_query_case_of_the_contract(case):
    parsed = parse_text_param(raw_query_of(case.target))
    if case.png is not None:
        assert parsed == (case.png, None)
    else:
        assert parsed == (None, case.answer["body"])


def test_the_table_is_really_covered():
    names = {c.name for c in QUERY_CASES if _is_parser_case(c)}
    # One of each kind of answer, so a filter above cannot silently drop a kind.
    for name in ("'+' is a space", "repeated text", "513 ASCII bytes", "invalid UTF-8 %FF",
                 "empty text", "60 KB URL (heads up to 64 KiB reach the app)", "edge text 1"):
        assert name in names, name


def test_messages_are_the_contracts():
    from conftest import CONTRACT

    words = {k: v["body"] for k, v in CONTRACT["answers"].items()}
    assert query.NOT_ONCE == words["notOnce"]
    assert query.MISSING == words["missing"]
    assert query.TOO_LONG == words["tooLong"]
    assert query.NOT_UTF8 == words["notUtf8"]


def test_round_trips_every_byte_percent_encoded():
    text = "".join(chr(c) for c in range(1, 0x80)) + "é漢😀\x00"
    assert parse_text_param("text=" + percent_encode(text)).text == text


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
        parse_text_param(raw)
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
