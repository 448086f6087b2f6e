"""py-tier-1: the hot function is a Rust command-line program, spawned once per request (the
article's strategy, as node/tiers/tier-1.js does it): `qr-cli [--engine E] [--format F] [--size N]
[--margin N] [--ec-level L] [--dark HEX] [--light HEX] -` with the text on stdin, the options not
at their default as flags, judged by its exit status, bounded by a timeout.

The binary: env RUSTY_QR_CLI, else <repo>/target/release/qr-cli (`cargo xtask build`).
Loaded by rusty_qr.host (`--tier py-tier-1`); tested by python/tests/test_tiers.py.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

from ..query import DEFAULT_OPTIONS, Options
from . import BadInput, Busy

CLI = os.environ.get("RUSTY_QR_CLI") or str(
    Path(__file__).resolve().parents[3] / "target" / "release" / "qr-cli"
)
#: A child that has not exited by then is killed with SIGKILL and the request fails (500).
TIMEOUT_S = 5.0
#: Spawn failures that mean "out of processes or file descriptors right now": 503, not 500.
BUSY_ERRNOS = frozenset({errno.EAGAIN, errno.EMFILE, errno.ENFILE})
#: qr-cli's exit status for input that breaks a rule: its stderr line is the contract's 400 body.
EXIT_BAD_INPUT = 1


class CliError(Exception):
    """qr-cli failed: its message, or how it ended."""


def flags(options: Options) -> list[str]:
    """qr-cli's flags for the options not at their default: `--ec-level` for `ec_level`, ..."""
    out = []
    for name, value in options.changed().items():
        out += ["--" + name.replace("_", "-"), str(value)]
    return out


def run(
    cli: str, timeout_s: float, text: str, engine: str | None, options: Options = DEFAULT_OPTIONS
) -> bytes:
    """One request, one child: `cli [--engine E] [FLAGS] -` with the UTF-8 text on stdin (so a
    NUL byte passes and nothing in the text is read as a flag). Success is exit status 0 with a
    non-empty stdout, never judged by stderr. Raises BadInput for exit status 1 with a message
    (the contract's 400 body: a size too small), Busy when the spawn failed for lack of processes
    or descriptors, CliError otherwise (the child's first stderr line, the core's message)."""
    args = [cli, *([] if engine is None else ["--engine", engine]), *flags(options), "-"]
    try:
        # start_new_session: the child gets its own process group, so a terminal's Ctrl-C (SIGINT
        # to the server's group) lets in-flight children finish during a graceful shutdown.
        child = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as err:
        if err.errno in BUSY_ERRNOS:
            raise Busy(f"cannot spawn qr-cli right now: {errno.errorcode[err.errno]}") from err
        if err.errno == errno.ENOENT:
            raise CliError(
                f"qr-cli not found at {cli}: run `cargo xtask build` or set RUSTY_QR_CLI"
            ) from err
        raise CliError(f"cannot spawn {cli}: {err.strerror}") from err
    try:
        # communicate() writes stdin, reads both pipes to the end, and ignores a child that
        # exited before reading its stdin (EPIPE): the exit status says what happened.
        stdout, stderr = child.communicate(text.encode("utf-8"), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()  # SIGKILL
        child.communicate()  # reap it and close the pipes
        raise CliError(f"qr-cli did not finish within {timeout_s:g} s and was killed") from None
    except BaseException:
        child.kill()
        child.wait()
        raise
    message = first_line(stderr)
    if child.returncode == 0 and stdout:
        if message:
            print(f"qr-cli succeeded but wrote to stderr: {message}", file=sys.stderr, flush=True)
        return stdout
    if message:
        raise (BadInput if child.returncode == EXIT_BAD_INPUT else CliError)(message)
    if child.returncode < 0:
        raise CliError(f"qr-cli was killed by signal {-child.returncode}")
    raise CliError(f"qr-cli exited with status {child.returncode}")


def first_line(stderr: bytes) -> str:
    """The first non-empty line of the child's stderr (a usage line may follow it), trimmed."""
    for line in stderr[:4096].decode("utf-8", "replace").splitlines():
        if line.strip():
            return line.strip()
    return ""


def generate(text: str, engine: str | None = None, options: Options = DEFAULT_OPTIONS) -> bytes:
    """The tier: the configured binary, the default timeout."""
    return run(CLI, TIMEOUT_S, text, engine, options)
