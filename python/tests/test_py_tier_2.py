"""Tests of py-tier-2 (python/rusty_qr/tiers/py_tier_2.py): qr_wasm.wasm through wasmtime.

Run with `pytest python/tests/test_py_tier_2.py` from the repo root; needs node/build/qr_wasm.wasm
and target/release/qr-cli (`cargo xtask build`; env RUSTY_QR_WASM and RUSTY_QR_CLI override).
The reference for every PNG is qr-cli, i.e. the core itself: the bytes must be the same.
"""

from __future__ import annotations

import ctypes
import json
import logging
import multiprocessing
import os
import subprocess
import threading
from pathlib import Path

import pytest
import wasmtime

from conftest import QR_CLI, qr_cli_png
from rusty_qr.query import DEFAULT_OPTIONS, Options
from rusty_qr.tiers import BadInput, py_tier_1, py_tier_2

REPO = Path(__file__).resolve().parents[2]
ENGINES = ("article", "fast")
TARGETS = [t for t in (REPO / "contract" / "article-texts.txt").read_text().splitlines() if t]
ANSWERS = json.loads((REPO / "contract" / "cases.json").read_text())["answers"]
# Beyond ASCII: 2-, 3- and 4-byte UTF-8, NUL, and texts of exactly 512 bytes.
OTHER_TEXTS = [
    "héllo wörld",
    "漢字とかな",
    "😀 rusty-qr 🦀",
    "a\x00b",
    "x" * 512,
    "漢" * 170 + "xy",  # 510 + 2 bytes
    "😀" * 128,  # 512 bytes
]


def current_instance() -> py_tier_2._Instance | None:
    """The calling thread's live instance (None before its first call or after a trap)."""
    return py_tier_2._local.instance


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("text", TARGETS + OTHER_TEXTS)
def test_png_is_the_cores_png(text: str, engine: str) -> None:
    assert len(text.encode()) <= 512
    png = py_tier_2.generate(text, engine)
    assert type(png) is bytes
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == qr_cli_png(text, engine)


def test_no_engine_is_the_cores_default() -> None:
    for text in TARGETS[:3]:
        assert py_tier_2.generate(text, None) == qr_cli_png(text, None)


@pytest.mark.parametrize(
    ("text", "answer"),
    [("", "missing"), ("a" * 513, "tooLong"), ("漢" * 171, "tooLong"), ("x" * 5000, "tooLong"),
     ("a\udc80b", "notUtf8"), ("\ud83d", "notUtf8")],
)
@pytest.mark.parametrize("engine", (None,) + ENGINES)
def test_bad_text_raises_bad_input_with_the_contracts_message(text, answer, engine) -> None:
    # "x" * 5000 does not fit the instance's input buffer: the path with its own allocation.
    with pytest.raises(ValueError) as raised:
        py_tier_2.generate(text, engine)
    assert str(raised.value) == ANSWERS[answer]["body"]
    assert type(raised.value) is BadInput


OPTION_SETS = [
    Options(format="svg"),
    Options(size=300, margin=2, ec_level="H"),
    Options(dark="0b3d91ff", light="ffffff00"),
    Options("svg", 1000, 20, "Q", "0b3d9180", "ffeeddff"),
    Options(size=777, margin=4, ec_level="M", dark="ffffffff", light="000000ff"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("options", OPTION_SETS, ids=repr)
def test_every_option_gives_the_cores_image(options: Options, engine: str) -> None:
    for text in ("rusty-qr", "😀" * 128):
        expected = qr_cli_png(text, engine, tuple(py_tier_1.flags(options)))
        assert py_tier_2.generate(text, engine, options) == expected


def test_the_options_record_is_qr_contracts() -> None:
    # crates/qr-contract/src/options.rs's own test vectors.
    assert py_tier_2.options_record(DEFAULT_OPTIONS) == bytes([0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF]) + b"\xff" * 4
    record = py_tier_2.options_record(Options("svg", 1000, 20, "H", "01020304", "05060708"))
    assert record == bytes([1, 3, 20, 0]) + (1000).to_bytes(4, "little") + bytes(range(1, 9))


def test_default_options_send_no_record(monkeypatch) -> None:
    py_tier_2.generate("warm up", None)
    instance = current_instance()
    seen = []
    real = instance._generate

    def spy(store, *args):
        seen.append(args)
        return real(store, *args)

    monkeypatch.setattr(instance, "_generate", spy)
    py_tier_2.generate("a", None, Options(margin=4))
    py_tier_2.generate("a", "fast", Options(ec_level="H"))
    assert seen[0][2:] == (0, 0, 0)  # no engine name, no record
    text_at, _, engine_at, engine_len, record_at = seen[1]
    assert (engine_at, engine_len, record_at) == (text_at + 1, 4, text_at + 5)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_size_too_small_is_bad_input_with_the_contracts_message(engine: str) -> None:
    with pytest.raises(BadInput) as raised:
        py_tier_2.generate("hello", engine, Options(size=60, margin=20))
    assert str(raised.value) == ANSWERS["sizeTooSmall61"]["body"]


@pytest.mark.parametrize(("at", "byte", "answer"), [(0, 2, "badFormat"), (1, 4, "badEcLevel"), (2, 21, "badMargin")])
def test_a_record_the_core_refuses_is_bad_input(monkeypatch, at: int, byte: int, answer: str) -> None:
    # The app sends only valid options; a record out of bounds is the core's to refuse.
    encode = py_tier_2.options_record
    monkeypatch.setattr(py_tier_2, "options_record", lambda options: encode(options)[:at] + bytes([byte]) + encode(options)[at + 1 :])
    with pytest.raises(BadInput, match=f"^{ANSWERS[answer]['body']}$"):
        py_tier_2.generate("a", None, Options(margin=0))


@pytest.mark.parametrize("engine", ["nope", "", "FAST", "fast "])
def test_unknown_engine_raises_runtime_error_with_the_cores_message(engine: str) -> None:
    # qr-cli prints the core's message for the same name (after clap's prefix).
    done = subprocess.run([str(QR_CLI), "--engine", engine, "-"], input=b"a",
                          capture_output=True, timeout=30, check=False)
    assert done.returncode != 0
    with pytest.raises(RuntimeError) as raised:
        py_tier_2.generate("a", engine)
    message = str(raised.value)
    assert message.startswith(f"unknown engine {json.dumps(engine)} (expected one of: ")
    assert message in done.stderr.decode()


def test_an_error_does_not_drop_the_instance() -> None:
    py_tier_2.generate("warm up", "fast")
    instance = current_instance()
    with pytest.raises(ValueError):
        py_tier_2.generate("", "fast")
    with pytest.raises(RuntimeError):
        py_tier_2.generate("a", "nope")
    with pytest.raises(BadInput):
        py_tier_2.generate("hello", "fast", Options(size=21))
    assert current_instance() is instance
    assert py_tier_2.generate("after", "fast") == qr_cli_png("after", "fast")


def test_memory_stays_flat_over_thousands_of_calls() -> None:
    texts = ["a", "x" * 512, "漢" * 170, "😀" * 128, "https://tourofrust.com", "héllo"]
    # Warm-up: every text length with both engines, so every QR version's lazily made tables and
    # the allocator's free lists exist before measuring.
    for n in range(1, 513):
        for engine in ENGINES:
            py_tier_2.generate("x" * n, engine)
    for text in texts:
        py_tier_2.generate(text, "article")
        for engine in ENGINES:
            for margin in range(0, 21, 10):
                py_tier_2.generate(f"0 {text[:100]}", engine, Options(format="svg", margin=margin))
                py_tier_2.generate(text, engine, Options(format="svg", margin=margin))
    instance = current_instance()
    assert instance is not None
    memory_before = instance.memory.data_len(instance.store)
    rss_before = rss_bytes()

    # Unfreed, each call would leave ~0.4-0.8 KB of PNG (and the result struct) in linear memory:
    # 6000 calls are megabytes, dozens of 64 KiB pages.
    for i in range(6000):
        text = texts[i % len(texts)]
        text = f"{i} {text[:100]}" if i % 7 == 0 else text
        engine = ENGINES[i % 2]
        if i % 25 == 0:  # the error paths free too: core errors, and inputs past the buffer
            # (240 x 3000 B left behind would be 11 pages)
            with pytest.raises(RuntimeError):
                py_tier_2.generate("x", "no-such-engine")
            with pytest.raises(BadInput):
                py_tier_2.generate("x" * 100, engine, Options(size=21, ec_level="H"))
            with pytest.raises(ValueError):
                py_tier_2.generate("y" * 3000, engine)
        png = py_tier_2.generate(text, engine)
        assert png.startswith(b"\x89PNG")
        if i % 10 == 0:  # and with a record, an SVG
            assert py_tier_2.generate(text, engine, Options(format="svg", margin=i % 21)).startswith(b"<")

    assert current_instance() is instance, "one instance throughout"
    assert instance.memory.data_len(instance.store) == memory_before, "linear memory did not grow"
    # The host side: a PNG (or a Func's buffers) kept per call would be megabytes over 6000 calls.
    growth = rss_bytes() - rss_before
    assert growth < 2 * 1024 * 1024, f"RSS grew by {growth} bytes"


def _corrupt(instance: py_tier_2._Instance) -> None:
    """Fills the instance's whole linear memory (allocator state, statics, heap) with 0xff, as
    node/tests/tier-2.test.js does: every pointer in it now points far outside memory."""
    size = instance.memory.data_len(instance.store)
    ctypes.memset(instance.memory.get_buffer_ptr(instance.store, size), 0xFF, size)


def test_after_a_trap_the_next_call_uses_a_fresh_instance(caplog) -> None:
    py_tier_2.generate("warm up", None)
    broken = current_instance()
    assert broken is not None
    _corrupt(broken)
    with (caplog.at_level(logging.WARNING, logger=py_tier_2.__name__),
          pytest.raises(RuntimeError) as raised):
        py_tier_2.generate("during the trap", None)
    assert isinstance(raised.value.__cause__, wasmtime.Trap)  # chained
    assert str(raised.value) == "py-tier-2: wasm trap: out of bounds memory access"
    assert current_instance() is None, "the trapped instance is dropped"
    lines = [r for r in caplog.records if r.name == py_tier_2.__name__]
    assert len(lines) == 1 and "wasm trap" in lines[0].getMessage() and "fresh" in lines[0].getMessage()
    assert "\n" not in lines[0].getMessage()

    for engine in ENGINES:
        assert py_tier_2.generate("after the trap", engine) == qr_cli_png("after the trap", engine)
    fresh = current_instance()
    assert fresh is not None and fresh is not broken
    assert fresh.memory.data_len(fresh.store) < broken.memory.data_len(broken.store) * 4


def test_a_result_pointing_outside_memory_drops_the_instance() -> None:
    # What a broken module or a corrupted instance could return: the glue checks every pointer
    # before reading (a wasmtime memory read would silently clamp) and drops the instance.
    py_tier_2.generate("warm up", None)
    instance = current_instance()
    size = instance.memory.data_len(instance.store)
    instance._generate = lambda store, *args: size - 4  # a result struct running off the end
    with pytest.raises(RuntimeError, match="outside memory"):
        py_tier_2.generate("bogus", None)
    assert current_instance() is None
    assert py_tier_2.generate("next", None) == qr_cli_png("next", None)


def test_concurrent_calls_from_many_threads_return_the_right_bytes() -> None:
    jobs = [(t, e) for t in TARGETS + OTHER_TEXTS for e in ENGINES]
    expected = {job: qr_cli_png(*job) for job in jobs}
    n_threads, rounds = 8, 6
    start = threading.Barrier(n_threads)
    failures: list[str] = []
    instances: dict[int, int] = {}

    def work(k: int) -> None:
        start.wait()
        for r in range(rounds):
            for i in range(len(jobs)):
                job = jobs[(i + k * 3 + r) % len(jobs)]
                try:
                    png = py_tier_2.generate(*job)
                except Exception as err:  # noqa: BLE001 (reported below)
                    failures.append(f"thread {k}: {job}: {err!r}")
                    return
                if png != expected[job]:
                    failures.append(f"thread {k}: {job}: wrong bytes")
        instances[k] = id(current_instance())

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert len(set(instances.values())) == n_threads, "a Store per thread"


def test_a_trap_in_one_thread_leaves_the_others_instances_alone() -> None:
    py_tier_2.generate("main", None)
    main_instance = current_instance()
    result: dict[str, object] = {}

    def other() -> None:
        py_tier_2.generate("other", None)
        _corrupt(current_instance())
        try:
            py_tier_2.generate("trap", None)
        except RuntimeError as err:
            result["error"] = err
        result["after"] = py_tier_2.generate("other again", None)

    t = threading.Thread(target=other)
    t.start()
    t.join(timeout=60)
    assert isinstance(result.get("error"), RuntimeError)
    assert result["after"] == qr_cli_png("other again", None)
    assert current_instance() is main_instance
    assert py_tier_2.generate("main again", None) == qr_cli_png("main again", None)


def _in_forked_child(queue) -> None:
    compiled_in_parent = py_tier_2._compiled
    try:
        png = py_tier_2.generate("in the child", "fast")
        queue.put((png, py_tier_2._compiled is not compiled_in_parent,
                   py_tier_2._compiled.pid == os.getpid()))
    except BaseException as err:  # noqa: BLE001 (sent to the parent)
        queue.put(repr(err))


def test_a_forked_worker_compiles_its_own_module_and_does_not_hang() -> None:
    # gunicorn --preload compiles in the master and forks workers: the child must work.
    py_tier_2.preload()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_in_forked_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == (qr_cli_png("in the child", "fast"), True, True)


def test_a_missing_module_is_a_runtime_error_naming_the_build(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RUSTY_QR_WASM", str(tmp_path / "nothing.wasm"))
    monkeypatch.setattr(py_tier_2, "_compiled", None)
    assert py_tier_2.wasm_path() == tmp_path / "nothing.wasm"
    with pytest.raises(RuntimeError, match="cargo xtask build"):
        py_tier_2.generate("a", None)


def test_the_default_path_is_node_builds_module(monkeypatch) -> None:
    monkeypatch.delenv("RUSTY_QR_WASM", raising=False)
    assert py_tier_2.wasm_path() == REPO / "node" / "build" / "qr_wasm.wasm"
