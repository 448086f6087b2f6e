"""py-tier-3: the qr_py extension (crates/qr-py) and its tier module.

Same bytes as the Rust core (qr-cli), the contract's errors as ValueError, the GIL released while
the core runs, and memory flat over thousands of calls. Needs `cargo xtask build` (the wheel in
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
from rusty_qr.tiers import py_tier_3

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
    png = qr_py.png(text, engine)
    assert type(png) is bytes
    assert png.startswith(PNG_SIGNATURE)
    assert png == qr_cli_png(text, engine)
    assert py_tier_3.generate(text, engine) == png


def test_engine_is_optional_and_by_keyword() -> None:
    assert qr_py.png("a") == qr_py.png("a", None) == qr_py.png("a", engine="fast")
    assert qr_py.png(text="a", engine="article") == qr_cli_png("a", "article")
    assert py_tier_3.generate("a") == qr_py.png("a")


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
        qr_py.png(text, engine)
    assert type(raised.value) is ValueError
    assert str(raised.value) == message
    with pytest.raises(ValueError, match=f"^{message}$"):
        py_tier_3.generate(text, engine)


def test_an_unknown_engine_is_a_value_error_naming_the_engines() -> None:
    for engine in ["nope", "Fast", ""]:
        with pytest.raises(ValueError) as raised:
            qr_py.png("a", engine)
        assert str(raised.value) == f'unknown engine "{engine}" (expected one of: article, fast)'


def test_wrong_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        qr_py.png(b"bytes are not text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        qr_py.png(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        qr_py.png("a", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        qr_py.png("a", "fast", "extra")  # type: ignore[call-arg]


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
    advanced = advanced_during(lambda: qr_py.png(text, "article"), 200)
    # With the GIL held throughout, `advanced` is 0: the control below shows the measure sees it.
    assert advanced > 0, "the counting thread never ran during a qr_py.png call"


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
            assert qr_py.png(text, "fast" if i % 8 else "article").startswith(PNG_SIGNATURE)
        for i in range(n // 20):
            with pytest.raises(ValueError):
                qr_py.png("x" * (513 + i % 7))

    calls(1_000)  # warm-up: allocator pools, the interpreter's caches
    before = rss_kib()
    calls(10_000)
    grown = rss_kib() - before
    # A leak of each PNG (300 to 1,500 bytes) would be 3 to 15 MiB here.
    assert grown < 2048, f"RSS grew by {grown} KiB over 10,000 calls"
