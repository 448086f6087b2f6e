"""py-tier-3: the hot function is a native extension module, `qr_py` (crates/qr-py: PyO3, abi3 for
CPython >= 3.11), called in-process like node/tiers/tier-3.js calls the napi addon, the options as
keyword arguments. The core runs with the GIL released, so the threads of one gunicorn gthread
worker use every core.

The module: the wheel `cargo xtask build` builds with maturin and installs into target/venv.
Loaded by rusty_qr.host (`--tier py-tier-3`); tested by python/tests/test_py_tier_3.py.
"""

from __future__ import annotations

from ..query import DEFAULT_OPTIONS, Options
from . import BadInput

try:
    import qr_py
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"the qr_py extension cannot be imported ({err}): run `cargo xtask build`, which builds "
        "crates/qr-py's wheel and installs it into the project's venv, target/venv"
    ) from err


def generate(text: str, engine: str | None = None, options: Options = DEFAULT_OPTIONS) -> bytes:
    """The PNG or SVG of `text` from the Rust core, `engine` by name (None = the core's default),
    the options not at their default as `qr_py.generate`'s keyword arguments.

    Raises BadInput (a ValueError) with the core's message for input the contract rejects (a
    `size` too small among them) or an unknown engine, RuntimeError when generation fails.
    """
    try:
        return qr_py.generate(text, engine, **options.changed())
    except ValueError as err:
        raise BadInput(str(err)) from None
