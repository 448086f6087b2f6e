"""Not a tier: the Python host's ceiling. Every valid /qrcode request gets the same image of its
format, made once by py-tier-3's extension with the other options at their defaults, so the
benchmark measures Flask, gunicorn, the query parsing and the options' validation with the QR work
free: the most any tier can serve on this host. Never serve it for real: every image shows
CEILING_TEXT. Loaded by rusty_qr.host (`--tier py-ceiling [--engine E]`), as
node/tiers/node-ceiling.js is by the Node host.
"""

from __future__ import annotations

import threading

from ..query import DEFAULT_OPTIONS, Options

#: The text of every image: its PNG is the median size of the benchmark's targets
#: (qr_harness::CEILING_TEXT).
CEILING_TEXT = "https://www.reddit.com/r/rust/top/?t=month"

_made: dict[tuple[str | None, str], bytes] = {}
_lock = threading.Lock()


def generate(text: str, engine: str | None = None, options: Options = DEFAULT_OPTIONS) -> bytes:
    """The PNG or SVG (`options.format`) of CEILING_TEXT with the named engine, whatever `text` and
    the other options are: the first call per engine and format makes it (the worker's start-up
    self-check makes both), every later call returns the same bytes."""
    key = (engine, options.format)
    image = _made.get(key)
    if image is None:
        from . import py_tier_3  # the PyO3 extension: built by `cargo xtask build`

        with _lock:
            image = _made.get(key)
            if image is None:
                only_format = Options(format=options.format)
                image = _made[key] = bytes(py_tier_3.generate(CEILING_TEXT, engine, only_format))
    return image
