"""The Python host's log: one line on stderr per event, with the process's prefix
(`[py-tier-0 master]`, `[py-tier-0 worker 123]`), from the master and from every worker.

`python -m rusty_qr` sets the master's prefix, rusty_qr.host each worker's as it loads the tier.
"""

from __future__ import annotations

import os
import sys

_prefix = "[rusty_qr]"


def set_prefix(prefix: str) -> None:
    """This process's prefix from now on; `{pid}` in it stands for the process's id."""
    global _prefix
    _prefix = prefix


def log(line: str) -> None:
    """One line on stderr, with the process's prefix."""
    prefix = _prefix.replace("{pid}", str(os.getpid()))
    # One write, so that lines from workers logging at once never interleave (a pipe keeps a
    # write of up to 4 KiB whole).
    sys.stderr.flush()
    os.write(2, f"{prefix} {line}\n".encode("utf-8", "replace"))
