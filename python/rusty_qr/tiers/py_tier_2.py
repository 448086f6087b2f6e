"""py-tier-2: the hot function as WebAssembly, run by wasmtime's Python package.

The module is the same hand-written-ABI ``qr_wasm.wasm`` that Node's tier-2 loads (crates/qr-wasm,
built into ``node/build/`` by ``cargo xtask build``; env ``RUSTY_QR_WASM`` overrides the path), and
this file is its glue, doing what ``node/tiers/qr-wasm-abi.js`` does. The ABI, from
crates/qr-wasm/src/lib.rs (pointers and lengths are i32, values little-endian)::

    alloc(len) -> ptr                 dealloc(ptr, len)
    generate(text_ptr, text_len, engine_ptr, engine_len, options_ptr) -> result
        engine_ptr 0 = the default engine; options_ptr 0 = every option at its default, else the
        16-byte options record (qr_contract's `record`: ``options_record`` below writes it)
    result -> three u32: status (0 = the image, 1 = a failure's message, 2 = the contract's
        message for bad input), data_ptr, data_len
    free_result(result)               frees the result and its data

The care it takes, as the JS glue does:

* the PNG (or message) is copied out of linear memory right after ``generate`` returns, before
  any other call into the instance, and bounds-checked first (a bad pointer is an error, never a
  silently short read);
* everything allocated is freed, on the core-error path too: the result after each call, an
  oversized input's own buffer; the one input buffer an instance reuses for the text, the engine
  name and the options record (two Func calls per image instead of eight: wasmtime-py spends tens
  of µs of Python on each) is the instance's for its lifetime;
* a trap (or a malformed result, or any other failure inside the instance) drops that instance:
  one line is logged and the next call makes a fresh one; nothing is freed in a dropped instance;
* the module is compiled once per process (``wasmtime.Module``, serially: see ``_Compiled``; a
  forked child compiles its own rather than use wasmtime state made before the fork) and
  instantiated once per thread (a Store per thread, ``threading.local``): gunicorn's gthread
  worker calls ``generate`` from several threads, and two threads in one Store abort the process.
  Why not one Store behind a lock: ctypes releases the GIL while Wasm runs, so per-thread Stores
  run Wasm on several cores at once. Measured on 2 cores, one gunicorn process with 2 threads:
  article engine +49% req/s over the lock; fast engine -16% (its Wasm is ~25 µs, and the threads
  then contend for the GIL that wasmtime-py's ctypes calls drop and retake dozens of times per
  call). With one thread per worker (cluster mode) the two are the same. python/README.md has
  the figures.

Errors: status 2 (bad input: the text, an option, a size too small for the symbol) raises
``BadInput`` (a ``ValueError``) with the contract's message, which the app answers as a 400;
anything else (status 1: an unknown engine, the core's ``failed to generate qr code``; a trap, a
missing module) raises ``RuntimeError``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import struct
import threading
from pathlib import Path

import wasmtime

from ..query import DEFAULT_OPTIONS, Options
from . import BadInput

__all__ = ["generate", "options_record", "preload", "wasm_path"]

STATUS_OK = 0
STATUS_FAILED = 1
STATUS_BAD_INPUT = 2
_RESULT = struct.Struct("<III")  # status, data_ptr, data_len
_U32 = 0xFFFF_FFFF

# The options record (crates/qr-contract/src/options.rs, `record`): format, ecLevel, margin, a
# reserved 0, size (u32 little-endian, 0 = the default), dark and light as r, g, b, a.
_RECORD = struct.Struct("<BBBxI4s4s")
_FORMAT_CODES = {"png": 0, "svg": 1}
_EC_LEVEL_CODES = {"L": 0, "M": 1, "Q": 2, "H": 3}


def options_record(options: Options) -> bytes:
    """The 16-byte options record of `options`, as ``qr_contract::record::encode`` writes it."""
    return _RECORD.pack(
        _FORMAT_CODES[options.format],
        _EC_LEVEL_CODES[options.ec_level],
        options.margin,
        options.size or 0,
        bytes.fromhex(options.dark),
        bytes.fromhex(options.light),
    )

log = logging.getLogger(__name__)


def wasm_path() -> Path:
    """The module's path: env ``RUSTY_QR_WASM``, else ``<repo>/node/build/qr_wasm.wasm``."""
    override = os.environ.get("RUSTY_QR_WASM")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "node" / "build" / "qr_wasm.wasm"


class _Compiled:
    """One process's wasmtime Engine and compiled Module (both safe to share between threads)."""

    __slots__ = ("engine", "module", "pid", "path")

    def __init__(self, path: Path) -> None:
        config = wasmtime.Config()
        # Compile on this thread. Parallel compilation starts a thread pool, and a child forked
        # after it (gunicorn --preload compiles in the master) hangs forever in its own compile,
        # waiting on pool threads that fork did not copy. Serial costs nothing here (~160 ms).
        config.parallel_compilation = False
        self.engine = wasmtime.Engine(config)
        try:
            self.module = wasmtime.Module.from_file(self.engine, str(path))
        except (OSError, wasmtime.WasmtimeError) as err:
            raise RuntimeError(
                f"py-tier-2: cannot load {path} ({err}); build it with `cargo xtask build`"
            ) from err
        self.pid = os.getpid()
        self.path = path


_compiled: _Compiled | None = None
_compile_lock = threading.Lock()


def _current_compiled() -> _Compiled:
    """The module compiled in this process; compiled on first use (again in a forked child)."""
    global _compiled
    compiled = _compiled
    if compiled is not None and compiled.pid == os.getpid():
        return compiled
    with _compile_lock:
        compiled = _compiled
        if compiled is None or compiled.pid != os.getpid():
            compiled = _compiled = _Compiled(wasm_path())
        return compiled


class _Instance:
    """One Store and one instance of the module, used by one thread only.

    Each call through wasmtime-py's ``Func`` costs tens of microseconds of Python, more than the
    fast engine's whole run, so a call makes two (``generate``, ``free_result``): the text, the
    engine name and the options record go into one input buffer that the instance allocates once
    and reuses (the ABI leaves input buffers to the caller). An input larger than that buffer
    (only a caller that skips validation sends one) gets an allocation of its own, freed after
    the call.
    """

    __slots__ = ("compiled", "store", "memory", "_alloc", "_dealloc", "_generate", "_free_result",
                 "_input_ptr")

    # Any valid text (<= 512 bytes of UTF-8), any engine name and the record fit.
    INPUT_CAPACITY = 1024

    def __init__(self, compiled: _Compiled) -> None:
        self.compiled = compiled
        self.store = wasmtime.Store(compiled.engine)
        exports = wasmtime.Instance(self.store, compiled.module, []).exports(self.store)
        self.memory = exports["memory"]
        self._alloc = exports["alloc"]
        self._dealloc = exports["dealloc"]
        self._generate = exports["generate"]
        self._free_result = exports["free_result"]
        for name in ("memory", "_alloc", "_dealloc", "_generate", "_free_result"):
            expected = wasmtime.Memory if name == "memory" else wasmtime.Func
            if not isinstance(getattr(self, name), expected):
                raise RuntimeError(f"py-tier-2: export {name.lstrip('_')} is not a {expected.__name__}")
        self._input_ptr = self._allocate(self.INPUT_CAPACITY)

    def _base(self) -> tuple[int, int]:
        """Address and length of linear memory now (both change when memory grows)."""
        store = self.store
        return ctypes.addressof(self.memory.data_ptr(store).contents), self.memory.data_len(store)

    def _allocate(self, length: int) -> int:
        ptr = self._alloc(self.store, length) & _U32
        if ptr == 0:
            raise RuntimeError(f"py-tier-2: alloc({length}) returned 0 (out of memory)")
        return ptr

    def call(self, text: bytes, engine: bytes | None, record: bytes | None) -> tuple[int, bytes]:
        """The ABI round trip: ``(status, copy of the data)``, everything freed. Any exception
        means this instance must not be used again (it may have trapped halfway)."""
        engine_name = b"" if engine is None else engine
        data_in = text + engine_name + (record or b"")
        own = len(data_in) > self.INPUT_CAPACITY
        input_ptr = self._allocate(len(data_in)) if own else self._input_ptr
        base, size = self._base()  # after alloc, which may have grown memory
        if input_ptr + len(data_in) > size:
            raise RuntimeError(f"py-tier-2: input buffer {input_ptr:#x} is outside memory")
        ctypes.memmove(base + input_ptr, data_in, len(data_in))
        engine_at = input_ptr + len(text)
        record_at = engine_at + len(engine_name)
        result = self._generate(
            self.store,
            input_ptr,
            len(text),
            0 if engine is None else engine_at,
            len(engine_name),
            0 if record is None else record_at,
        ) & _U32

        # Copy out now: the next call into the instance may grow memory or reuse these bytes.
        base, size = self._base()
        if result == 0 or result + _RESULT.size > size:
            raise RuntimeError(f"py-tier-2: generate returned {result:#x}, outside memory")
        status, data_ptr, data_len = _RESULT.unpack(ctypes.string_at(base + result, _RESULT.size))
        if status not in (STATUS_OK, STATUS_FAILED, STATUS_BAD_INPUT) or data_ptr + data_len > size:
            raise RuntimeError(
                f"py-tier-2: malformed result (status {status}, data {data_ptr:#x}+{data_len})"
            )
        data = ctypes.string_at(base + data_ptr, data_len)

        self._free_result(self.store, result)
        if own:
            self._dealloc(self.store, input_ptr, len(data_in))
        return status, data


class _PerThread(threading.local):
    instance: _Instance | None = None


_local = _PerThread()


def _encode(s: str) -> bytes:
    # A str with a lone surrogate has no UTF-8 form; 'surrogatepass' hands the core those bytes,
    # which its text rule rejects as not UTF-8 (a ValueError with its message), as a byte would be.
    return s.encode("utf-8", "surrogatepass")


def _one_line(err: Exception) -> str:
    """``err`` in one line. A wasmtime Trap's message is a backtrace ending in its cause
    (``wasm trap: out of bounds memory access``, ``wasm trap: wasm `unreachable` instruction
    executed``): that last line is the one to show."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if isinstance(err, wasmtime.Trap) and lines:
        return re.sub(r"^\d+: ", "", lines[-1])
    return f"{type(err).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def generate(text: str, engine: str | None, options: Options = DEFAULT_OPTIONS) -> bytes:
    """The PNG or SVG of ``text`` made with the named engine (None: the core's default) and the
    options (as a record; none at all when every option is at its default).

    Raises BadInput (a ValueError) with the contract's message for bad input (a size too small for
    the symbol; the text and the options only from callers that do not validate first, as the app
    does), RuntimeError for anything else; after a trap the calling thread's instance is replaced
    on its next call.
    """
    compiled = _current_compiled()
    record = None if options == DEFAULT_OPTIONS else options_record(options)
    try:
        instance = _local.instance
        if instance is None or instance.compiled is not compiled:
            instance = _local.instance = _Instance(compiled)
        status, data = instance.call(
            _encode(text), None if engine is None else _encode(engine), record
        )
    except BaseException as err:
        # A trap, a malformed result, or an interruption halfway: the instance's state is unknown.
        _local.instance = None
        if not isinstance(err, Exception):
            raise
        what = _one_line(err)
        log.warning("py-tier-2: wasm instance dropped after %s; the next call uses a fresh one", what)
        if isinstance(err, RuntimeError):
            raise
        raise RuntimeError(f"py-tier-2: {what}") from err
    if status == STATUS_OK:
        return data
    message = data.decode("utf-8", "replace")
    raise (BadInput if status == STATUS_BAD_INPUT else RuntimeError)(message)


def preload() -> None:
    """Compile the module and instantiate it for the calling thread now, so a missing or broken
    build output fails at server start rather than on the first request."""
    generate("rusty-qr", None)
