"""How a worker tells the master it is ready, both ends: the master opens a pipe before it forks
and names its write end in RUSTY_QR_READY_FD; each worker, once it listens, writes its pid there
(4 bytes, native order); the master prints the ready line once every live worker has
(rusty_qr.arbiter).
"""

from __future__ import annotations

import os
import struct

from .logs import log

#: The environment variable naming the pipe on which each worker tells the master it is ready.
READY_FD_ENV = "RUSTY_QR_READY_FD"
_PID = struct.Struct("=i")


def open_pipe() -> int:
    """In the master, before it forks: opens the pipe, names its write end in the environment the
    workers inherit, and returns its read end (non-blocking)."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.environ[READY_FD_ENV] = str(write_end)
    return read_end


def tell_master() -> None:
    """In a worker that listens: writes its pid to the master's pipe (one log line if it cannot)."""
    fd = os.environ.get(READY_FD_ENV)
    if fd is not None:
        try:
            os.write(int(fd), _PID.pack(os.getpid()))
        except OSError as err:
            log(f"cannot tell the master this worker is ready: {err}")


def read_pids(read_end: int) -> list[int]:
    """In the master: the pids of the workers that said they are ready since the last call."""
    try:
        data = os.read(read_end, 4096)
    except BlockingIOError:
        data = b""
    return [pid for (pid,) in _PID.iter_unpack(data[: len(data) - len(data) % _PID.size])]
