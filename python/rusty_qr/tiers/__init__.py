"""The tiers of the Python host: one module per tier, each with the same function.

The tier interface (every python/rusty_qr/tiers/py_tier_<n>.py, and py_ceiling.py):

    generate(text: str, engine: str | None) -> bytes

- `text` is already validated by the app (rusty_qr.query): non-empty, at most 512 UTF-8 bytes,
  valid UTF-8 (it may hold NUL);
- `engine` is the --engine name as given (None = the core's default); the tier or the Rust core
  judges it (py-tier-0 has none: the launcher refuses --engine for it);
- it returns the PNG's bytes; any exception means 500 `failed to generate qr code` with one log
  line carrying its message, except `Busy`, which means 503 `server is busy`;
- it is called from several threads at once (gunicorn's gthread worker) and must be safe so.

Each worker calls generate('rusty-qr', engine) once before it serves, and must get a PNG.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Callable

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

Generate = Callable[[str, "str | None"], bytes]


class Busy(Exception):
    """The tier cannot take this request right now (out of processes, descriptors, instances):
    the app answers 503 `server is busy` instead of 500."""


def load(tier: str) -> ModuleType:
    """Imports the module of `tier` (a key of TIERS) and checks that it has `generate`."""
    module = importlib.import_module(f"{__name__}.{TIERS[tier]}")
    if not callable(getattr(module, "generate", None)):
        raise TypeError(f"rusty_qr/tiers/{TIERS[tier]}.py has no generate(text, engine)")
    return module


def self_check(generate: Callable[[str], bytes]) -> None:
    """What every worker runs before it serves: the PNG of 'rusty-qr', or an exception whose
    message says what is wrong (a missing binary or module, an unknown engine)."""
    png = generate("rusty-qr")
    if not isinstance(png, (bytes, bytearray)) or not bytes(png[:8]) == PNG_SIGNATURE:
        raise TypeError(f"generate did not return PNG bytes (got {type(png).__name__})")
