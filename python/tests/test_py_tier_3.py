"""py-tier-3: the qr_py extension (crates/qr-py) and its tier module.

Same bytes as the Rust core (qr-cli), the options as keyword arguments, the contract's errors as
ValueError, the GIL released while the core runs, and memory flat over thousands of calls. Needs `cargo xtask build` (the wheel in
target/venv, and target/release/qr-cli or RUSTY_QR_CLI). Run with `cargo xtask test`, or
`PYTHONPATH=python target/venv/bin/python -m pytest python/tests/test_py_tier_3.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import qr_py
from conftest import qr_cli_png
from pixels import png_chunks
from rusty_qr.query import Options, parse_query
from rusty_qr.tiers import BadInput, py_tier_3

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = json.loads((ROOT / "contract" / "cases.json").read_text(encoding="utf-8"))["answers"]
ENGINES = ["article", "fast"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

TEXTS = [
    "https://github.com/pretzelhammer/rust-blog",
    "a",
    "漢字 é 🦀 Ωmega",  # non-ASCII of 2, 3 and 4 UTF-8 bytes
    "a\x00b",  # NUL passes through
    "é" * 256,  # exactly 512 bytes
    "-not-a-flag",
]


@pytest.mark.parametrize("engine", [*ENGINES, None])
@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_same_bytes_as_the_core(text: str, engine: str | None) -> None:
    png = qr_py.generate(text, engine)
    assert type(png) is bytes
    assert png.startswith(PNG_SIGNATURE)
    assert png == qr_cli_png(text, engine)
    assert py_tier_3.generate(text, engine) == png


def test_engine_is_optional_and_by_keyword() -> None:
    assert qr_py.generate("a") == qr_py.generate("a", None) == qr_py.generate("a", engine="fast")
    assert qr_py.generate(text="a", engine="article") == qr_cli_png("a", "article")
    assert py_tier_3.generate("a") == qr_py.generate("a")


KWARGS = {"format": "svg", "size": 300, "margin": 2, "ec_level": "h", "dark": "#0B3D91", "light": "ffffff00"}


@pytest.mark.parametrize("engine", ENGINES)
def test_every_option_is_a_keyword_argument(engine: str) -> None:
    svg = qr_py.generate("rusty-qr", engine, **KWARGS)
    assert svg.startswith(b"<") and b'width="300"' in svg and b"crispEdges" in svg
    # None is the default, one by one.
    assert qr_py.generate("a", engine, **dict.fromkeys(KWARGS)) == qr_py.generate("a", engine)
    # Each option changes the image on its own.
    images = {qr_py.generate("hello world", engine, **{name: value}) for name, value in KWARGS.items()}
    assert len(images) == len(KWARGS)
    png = qr_py.generate("hello", engine, size=300, margin=0)
    width, height = int.from_bytes(png_chunks(png)[0][1][:4], "big"), int.from_bytes(png_chunks(png)[0][1][4:8], "big")
    assert (width, height) == (300, 300)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_tier_hands_the_parsed_options_on(engine: str) -> None:
    query = "text=rusty-qr&format=SVG&size=300&margin=2&ecLevel=h&dark=%230b3d91&light=ffffff00"
    parsed = parse_query(query)
    assert py_tier_3.generate(parsed.text, engine, parsed.options) == qr_py.generate("rusty-qr", engine, **KWARGS)
    assert py_tier_3.generate("a", engine, Options()) == qr_py.generate("a", engine)


@pytest.mark.parametrize(
    ("kwargs", "answer"),
    [
        ({"format": "gif"}, "badFormat"),
        ({"format": ""}, "badFormat"),
        ({"size": 20}, "badSize"),
        ({"size": 1001}, "badSize"),
        ({"size": -300}, "badSize"),
        ({"size": 2**64}, "badSize"),
        ({"margin": 21}, "badMargin"),
        ({"margin": -1}, "badMargin"),
        ({"ec_level": "X"}, "badEcLevel"),
        ({"dark": "red"}, "badDark"),
        ({"light": "1234567"}, "badLight"),
        ({"size": 28}, "sizeTooSmall29"),
        ({"size": 60, "margin": 20}, "sizeTooSmall61"),
        ({"format": "gif", "size": 1, "light": "no"}, "badFormat"),  # in the contract's order
        ({"size": 21, "light": "no"}, "badLight"),  # the rules before the symbol's size
    ],
)
def test_a_bad_option_is_a_value_error_with_its_rule(kwargs: dict, answer: str) -> None:
    with pytest.raises(ValueError) as raised:
        qr_py.generate("hello", **kwargs)
    assert type(raised.value) is ValueError
    assert str(raised.value) == ANSWERS[answer]["body"]


def test_the_text_is_judged_before_the_options() -> None:
    with pytest.raises(ValueError, match='^missing "text" query param$'):
        qr_py.generate("", format="gif", size=1)
    with pytest.raises(ValueError, match="^text must be <= 512 bytes$"):
        qr_py.generate("a" * 513, size=-1, margin=2**70)


def test_a_size_too_small_is_bad_input_for_the_app() -> None:
    with pytest.raises(BadInput, match=f"^{ANSWERS['sizeTooSmall33']['body']}$"):
        py_tier_3.generate("hello world", "fast", Options(size=32, ec_level="H"))


def test_options_are_keyword_only_and_typed() -> None:
    with pytest.raises(TypeError):
        qr_py.generate("a", "fast", "svg")  # type: ignore[misc]
    with pytest.raises(TypeError):
        qr_py.generate("a", size="300")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        qr_py.generate("a", size=300.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        qr_py.generate("a", dark=0x000000)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        qr_py.generate("a", ecLevel="H")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("", "missing"),
        ("a" * 513, "tooLong"),
        ("é" * 257, "tooLong"),  # 514 bytes in 257 characters: bytes are counted
        ("\ud800", "notUtf8"),  # a lone surrogate has no UTF-8 form
        ("ok\udcff", "notUtf8"),
    ],
)
@pytest.mark.parametrize("engine", [*ENGINES, None])
def test_bad_text_is_a_value_error_with_the_contracts_message(
    text: str, answer: str, engine: str | None
) -> None:
    message = ANSWERS[answer]["body"]
    with pytest.raises(ValueError) as raised:
        qr_py.generate(text, engine)
    assert type(raised.value) is ValueError
    assert str(raised.value) == message
    with pytest.raises(ValueError, match=f"^{message}$"):
        py_tier_3.generate(text, engine)


def test_an_unknown_engine_is_a_value_error_naming_the_engines() -> None:
    for engine in ["nope", "Fast", ""]:
        with pytest.raises(ValueError) as raised:
            qr_py.generate("a", engine)
        assert str(raised.value) == f'unknown engine "{engine}" (expected one of: article, fast)'


def test_wrong_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        qr_py.generate(b"bytes are not text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        qr_py.generate(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        qr_py.generate("a", 1)  # type: ignore[arg-type]


def test_the_module_is_the_abi3_extension() -> None:
    assert qr_py.qr_py.__file__.endswith(".abi3.so")


def advanced_during(call, calls: int) -> int:
    """How many of `calls` calls of `call()` the counting thread ran during.

    The switch interval is raised to 60 s first, so the interpreter never forces a thread to hand
    over the GIL: the counting thread can add 1 only while the GIL is free, i.e. while this thread
    has released it. It gives the GIL back itself on every turn (`time.sleep(0)` releases it), so
    this thread gets it back as soon as a call returns. Between reading the count before a call and
    after it, this thread runs only bytecode and `call()`: if `call()` holds the GIL throughout,
    the count cannot change, whatever the timing.
    """
    import time

    count = 0
    stop = False
    running = threading.Event()

    def counting() -> None:
        nonlocal count
        running.set()
        while not stop:
            count += 1
            time.sleep(0)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(60.0)
    thread = threading.Thread(target=counting, daemon=True)
    try:
        thread.start()
        running.wait()
        advanced = 0
        for _ in range(calls):
            before = count
            call()
            if count != before:
                advanced += 1
        return advanced
    finally:
        stop = True
        thread.join()
        sys.setswitchinterval(interval)


def test_the_gil_is_released_while_the_core_runs() -> None:
    # The slow engine on the longest text: about a millisecond per call.
    text = "https://en.wikipedia.org/wiki/Carcinisation " * 11
    assert len(text.encode()) <= 512
    advanced = advanced_during(lambda: qr_py.generate(text, "article"), 200)
    # With the GIL held throughout, `advanced` is 0: the control below shows the measure sees it.
    assert advanced > 0, "the counting thread never ran during a qr_py.generate call"


def test_the_measure_sees_a_call_that_holds_the_gil() -> None:
    # The control: a call of similar length that never releases the GIL (pure Python).
    def hold() -> None:
        total = 0
        for i in range(20_000):
            total += i

    assert advanced_during(hold, 200) == 0


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def test_memory_stays_flat_over_thousands_of_calls() -> None:
    def calls(n: int) -> None:
        for i in range(n):
            # A new str each time: the argument's UTF-8 form and the result must both be freed.
            text = f"https://example.com/{i}/{'é' * (i % 64)}"
            assert qr_py.generate(text, "fast" if i % 8 else "article").startswith(PNG_SIGNATURE)
            if i % 10 == 0:  # the options' strings and the SVG path too
                assert qr_py.generate(text, "fast", format="svg", dark=f"#{i % 256:02x}0000").startswith(b"<")
        for i in range(n // 20):
            with pytest.raises(ValueError):
                qr_py.generate("x" * (513 + i % 7))
            with pytest.raises(ValueError):
                qr_py.generate("x", size=20 - i % 7, dark="not a colour")

    calls(1_000)  # warm-up: allocator pools, the interpreter's caches
    before = rss_kib()
    calls(10_000)
    grown = rss_kib() - before
    # A leak of each PNG (300 to 1,500 bytes) would be 3 to 15 MiB here.
    assert grown < 2048, f"RSS grew by {grown} KiB over 10,000 calls"


def test_the_ceiling_answers_one_image_per_engine_and_format() -> None:
    from rusty_qr.tiers import py_ceiling

    text = py_ceiling.CEILING_TEXT
    png = py_ceiling.generate("anything", "fast", Options(size=1000, ec_level="H"))
    assert png == qr_py.generate(text, "fast")
    svg = py_ceiling.generate("else", "fast", Options(format="svg", dark="ff0000"))
    assert svg == qr_py.generate(text, "fast", format="svg")
    assert py_ceiling.generate("a", "fast") is png
    assert py_ceiling.generate("b", "article", Options(format="svg")) == qr_py.generate(text, "article", format="svg")
