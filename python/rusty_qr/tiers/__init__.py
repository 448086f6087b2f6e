"""The tiers of the Python host: one module per tier, each with the same function.

The tier interface (every python/rusty_qr/tiers/py_tier_<n>.py, and py_ceiling.py):

    generate(text: str, engine: str | None, options: Options = DEFAULT_OPTIONS) -> bytes

- `text` is already validated by the app (rusty_qr.query): non-empty, at most 512 UTF-8 bytes,
  valid UTF-8 (it may hold NUL);
- `engine` is the --engine name as given (None = the core's default); the tier or the Rust core
  judges it (py-tier-0 has none: the launcher refuses --engine for it);
- `options` are rusty_qr.query's, already validated and normalised; the tier hands them on through
  its own boundary, and the generator judges what only the symbol tells (a `size` too small);
- it returns the PNG's or the SVG's bytes (`options.format`); `BadInput` means 400 with its
  message (the contract's body), `Busy` 503 `server is busy`, any other exception 500 `failed to
  generate qr code` with one log line carrying its message;
- it is called from several threads at once (gunicorn's gthread worker) and must be safe so.

Each worker calls generate('rusty-qr', engine, ...) before it serves, with every option at its
default and with every option but the format off it, and must get a PNG each time.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Callable

from ..query import DEFAULT_OPTIONS, Options

#: Every tier the launcher knows, by its command-line name, and its module in this package.
TIERS = {
    "py-tier-0": "py_tier_0",
    "py-tier-1": "py_tier_1",
    "py-tier-2": "py_tier_2",
    "py-tier-3": "py_tier_3",
    "py-ceiling": "py_ceiling",
}

#: The tiers without a Rust engine: --engine is a usage error for them.
WITHOUT_ENGINE = frozenset({"py-tier-0"})

#: The eight bytes every PNG starts with.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: The self-check's options: all but the format off their default, so that a build without the
#: options (a stale qr-cli or qr_wasm.wasm) fails at start.
CHECKED_OPTIONS = Options(size=99, margin=2, ec_level="H", dark="0b3d91ff", light="ffffff00")


class BadInput(ValueError):
    """The generator refuses the request's input (a `size` too small for the symbol): the app
    answers 400 with the message, which is the contract's body."""


class Busy(Exception):
    """The tier cannot take this request right now (out of processes, descriptors, instances):
    the app answers 503 `server is busy` instead of 500."""


def load(tier: str) -> ModuleType:
    """Imports the module of `tier` (a key of TIERS) and checks that it has `generate`."""
    module = importlib.import_module(f"{__name__}.{TIERS[tier]}")
    if not callable(getattr(module, "generate", None)):
        raise TypeError(f"rusty_qr/tiers/{TIERS[tier]}.py has no generate(text, engine, options)")
    return module


def self_check(generate: Callable[[str, Options], bytes]) -> None:
    """What every worker runs before it serves: PNGs of 'rusty-qr', or an exception whose message
    says what is wrong (a missing binary or module, an unknown engine, a build without the
    options)."""
    for options in (DEFAULT_OPTIONS, CHECKED_OPTIONS):
        png = generate("rusty-qr", options)
        if not isinstance(png, (bytes, bytearray)) or not png.startswith(PNG_SIGNATURE):
            got = bytes(png[:8]) if isinstance(png, (bytes, bytearray)) else type(png).__name__
            raise TypeError(f"generate did not return PNG bytes (got {got!r})")
