"""Not a tier: the Python host's ceiling. Every valid /qrcode request gets the same PNG, made once
by py-tier-3's extension, so the benchmark measures Flask, gunicorn and the query parsing with the
QR work free: the most any tier can serve on this host. Never serve it for real: every image
shows CEILING_TEXT. Loaded by rusty_qr.host (`--tier py-ceiling [--engine E]`), as
node/tiers/node-ceiling.js is by the Node host.
"""

from __future__ import annotations

import threading

#: The text of every image: its PNG is the median size of the benchmark's targets
#: (qr_harness::CEILING_TEXT).
CEILING_TEXT = "https://www.reddit.com/r/rust/top/?t=month"

_made: dict[str | None, bytes] = {}
_lock = threading.Lock()


def generate(text: str, engine: str | None = None) -> bytes:
    """The PNG of CEILING_TEXT with the named engine, whatever `text` is: the first call per
    engine makes it (the worker's start-up self-check), every later call returns the same bytes."""
    png = _made.get(engine)
    if png is None:
        from . import py_tier_3  # the PyO3 extension: built by `cargo xtask build`

        with _lock:
            png = _made.get(engine)
            if png is None:
                png = _made[engine] = bytes(py_tier_3.generate(CEILING_TEXT, engine))
    return png
