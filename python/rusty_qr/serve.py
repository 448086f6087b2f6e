"""rusty-qr's Python host: the Flask app (rusty_qr.app) on gunicorn, backed by one tier.

Run with `PYTHONPATH=python target/venv/bin/python -m rusty_qr.serve --tier TIER
         [--mode single|cluster] [--workers N] [--port P] [--engine E] [--max-connections N]`
(port 42069 by default, 0 = an ephemeral port; binds 127.0.0.1 only). TIER is a key of
rusty_qr.tiers.TIERS. `single`: one worker process, gthread with one thread per CPU; `cluster`:
one worker process per CPU (or --workers), one thread each.

Ready: exactly one line `listening on http://127.0.0.1:PORT` on stdout once every worker has
passed its self-check and listens; logs on stderr. Usage errors: one line, exit 2; a tier that
fails its self-check: one line, exit 1. SIGTERM/SIGINT: drain (rusty_qr.worker), exit 0 within
10 s; a second signal: exit 1 at once.
"""

from __future__ import annotations

import argparse
import os
import queue
import resource
import socket
import signal
import struct
import sys
import time

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer

from . import tiers, worker
from .app import create_app

DEFAULT_PORT = 42069
#: Open connections per worker process past which a new one gets 503 (node/server.js, qr-server).
DEFAULT_MAX_CONNECTIONS = 1024
MODES = ("single", "cluster")
USAGE = (
    f"usage: python -m rusty_qr.serve --tier {'|'.join(tiers.TIERS)} [--mode single|cluster] "
    "[--workers N] [--port P] [--engine E] [--max-connections N]"
)


class UsageError(Exception):
    """A bad command line: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage and the message on two lines
        raise UsageError(message)


def cpu_count() -> int:
    """The CPUs this process may run on (Node's availableParallelism)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parse_command_line(argv: list[str]) -> dict:
    """argv -> options; raises UsageError with a one-line message."""
    parser = _Parser(prog="rusty_qr.serve", add_help=False, allow_abbrev=False)
    parser.add_argument("--tier")
    parser.add_argument("--mode", default="single")
    parser.add_argument("--workers")
    parser.add_argument("--port", default=str(DEFAULT_PORT))
    parser.add_argument("--engine")
    parser.add_argument("--max-connections", default=str(DEFAULT_MAX_CONNECTIONS))
    parser.add_argument("-h", "--help", action="store_true")
    args = parser.parse_args(argv)
    if args.help:
        return {"help": True}

    def integer(name: str, value: str, low: int, high: int) -> int:
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            raise UsageError(f"--{name} must be an integer from {low} to {high}, got '{value}'")
        return int(value)

    if args.tier is None:
        raise UsageError("--tier is required")
    if args.tier not in tiers.TIERS:
        raise UsageError(f"--tier must be one of {', '.join(tiers.TIERS)}, got '{args.tier}'")
    if args.mode not in MODES:
        raise UsageError(f"--mode must be single or cluster, got '{args.mode}'")
    if args.workers is not None and args.mode != "cluster":
        raise UsageError("--workers needs --mode cluster")
    if args.engine is not None and args.tier in tiers.WITHOUT_ENGINE:
        raise UsageError(f"{args.tier} is pure Python: it takes no --engine")
    if args.engine == "":
        raise UsageError("--engine must not be empty")
    return {
        "help": False,
        "tier": args.tier,
        "mode": args.mode,
        "workers": cpu_count() if args.workers is None else integer("workers", args.workers, 1, 1024),
        "port": integer("port", args.port, 0, 65535),
        "engine": args.engine,
        "max_connections": integer("max-connections", args.max_connections, 1, 1_000_000),
    }


class QuietLogger(glogging.Logger):
    """gunicorn's logger, without the master's line about a worker that failed its self-check
    (the worker has already said why, in one line)."""

    def error(self, msg, *args, **kwargs):
        if msg.startswith("Worker (pid:%s) exited with code") and args[1:2] == (worker.BOOT_ERROR,):
            return
        super().error(msg, *args, **kwargs)


class Host(BaseApplication):
    """gunicorn, configured in code: the app of one tier, the contract's worker, 127.0.0.1."""

    def __init__(self, options: dict):
        self.options = options
        self.port = options["port"]
        self.reservation = None
        if options["mode"] == "cluster":
            # Each worker listens on a socket of its own with SO_REUSEPORT (gunicorn's
            # reuse_port), so the kernel spreads connections evenly over them. Sharing the
            # master's socket, the worker that woke first took a whole burst of keep-alive
            # connections (measured: 48 of 50) and its siblings idled. The master binds (without
            # listening) to learn the port when it is 0 and to hold it; only listening sockets
            # get connections.
            # SO_REUSEPORT would also let this server share a port another one listens on:
            # a bind without it first proves the port free (and picks one for port 0).
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    probe.bind(("127.0.0.1", self.port))
                    self.port = probe.getsockname()[1]
                self.reservation = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self.reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                self.reservation.bind(("127.0.0.1", self.port))
            except OSError as err:
                worker.log(f"cannot listen on 127.0.0.1:{self.port}: {err.strerror}")
                sys.exit(1)
            self.port = self.reservation.getsockname()[1]
        super().__init__()

    def load_config(self):
        o = self.options
        single = o["mode"] == "single"
        settings = {
            "bind": [f"127.0.0.1:{self.port}"],
            "reuse_port": not single,
            # single: one process, one thread per CPU (py-tier-3 releases the GIL, so its threads
            # use every core); cluster: one process per CPU, one thread each.
            "workers": 1 if single else o["workers"],
            "threads": cpu_count() if single else 1,
            "worker_class": "rusty_qr.worker.ContractWorker",
            # The connection bound per worker (ContractWorker answers 503 past it).
            "worker_connections": o["max_connections"],
            # The master's hard stop after SIGTERM (the worker gives up at 9.5 s itself).
            "graceful_timeout": 10,
            # A worker that misses the heartbeat this long is killed and replaced.
            "timeout": 30,
            # Limits of gunicorn's parser, opened up: ContractWorker bounds the whole head at
            # 64 KiB itself (431), so a 60 KB URL reaches the app, as in every tier.
            "limit_request_line": 0,
            "limit_request_fields": 32768,
            "limit_request_field_size": worker.MAX_HEAD_BYTES,
            # A header name with '_' is dropped from the environ instead of refused (400):
            # the contract answers such a request as if the header were not there.
            "header_map": "drop",
            # The same parser everywhere (gunicorn_h1c, the optional C parser, is not installed).
            "http_parser": "python",
            # No Unix control socket in the working directory, and no thread in the master
            # before it forks.
            "control_socket_disable": True,
            "loglevel": "warning",
            "errorlog": "-",
            "accesslog": None,
            "logger_class": "rusty_qr.serve.QuietLogger",
            "proc_name": f"rusty-qr {o['tier']}",
            "child_exit": _child_exit,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        """Runs in each worker: the tier, its self-check, the app (ContractWorker.load_wsgi turns a
        failure into one line and exit status 3)."""
        tier, engine = self.options["tier"], self.options["engine"]
        worker.LOG_PREFIX[0] = f"[{tier} worker {{pid}}]"
        module = tiers.load(tier)

        def generate(text: str) -> bytes:
            return module.generate(text, engine)

        tiers.self_check(generate)
        return create_app(generate, worker.DRAINING.is_set, worker.log)

    def run(self):
        HostArbiter(self).run()


def _child_exit(arbiter, _worker):
    """gunicorn's hook when a worker is reaped (not for a boot error, which stops the master):
    a worker that dies before every worker is ready would only crash-loop, so stop."""
    if not getattr(arbiter, "announced", True):
        raise HaltServer("a worker exited during start-up", 1)


class HostArbiter(Arbiter):
    """gunicorn's master, with the ready line, a graceful SIGINT and the exit statuses of the
    contract.

    - Ready: each worker writes its pid to a pipe once it listens (ContractWorker.run); the master
      prints the ready line once every live worker has, with the real port (port 0 included).
    - SIGINT stops gracefully, as SIGTERM does (gunicorn's SIGINT kills the workers at once).
    - A second SIGTERM/SIGINT while stopping kills the workers and exits 1 (gunicorn would go on
      waiting, then exit 0); a worker that did not stop cleanly also makes the exit status 1.
    - A worker that fails its self-check stops the master with status 1 and no more log lines.
    """

    def __init__(self, app):
        super().__init__(app)
        self.announced = False
        self.ready_pids: set[int] = set()
        self.ready_r, ready_w = os.pipe()
        os.set_blocking(self.ready_r, False)
        os.environ[worker.READY_FD_ENV] = str(ready_w)

    handle_int = Arbiter.handle_term

    def wait_for_signals(self, timeout=1.0):
        # Until the ready line is out, look at the pipe every 50 ms.
        if not self.announced:
            self._read_ready()
            timeout = min(timeout, 0.05)
        return super().wait_for_signals(timeout)

    def _read_ready(self):
        try:
            data = os.read(self.ready_r, 4096)
        except BlockingIOError:
            data = b""
        for (pid,) in struct.iter_unpack("=i", data[: len(data) - len(data) % 4]):
            self.ready_pids.add(pid)
        live = set(self.WORKERS)
        if len(live) >= self.num_workers and live <= self.ready_pids:
            port = self.LISTENERS[0].getsockname()[1] if self.LISTENERS else self.app.port
            print(f"listening on http://127.0.0.1:{port}", flush=True)
            self.announced = True

    def halt(self, reason=None, exit_status=0):
        self._stop_control_server()
        clean = self.stop()
        if exit_status != 0 and reason and exit_status != worker.BOOT_ERROR:
            worker.log(reason)
        sys.exit(0 if exit_status == 0 and clean else 1)

    def stop(self, graceful=True):
        """Closes the port, asks every worker to drain (SIGTERM) and waits for them up to the
        graceful timeout; a second signal meanwhile kills them. Returns whether all exited 0."""
        for listener in self.LISTENERS:
            listener.close()
        self.LISTENERS = []
        self.kill_workers(signal.SIGTERM if graceful else signal.SIGQUIT)
        clean = True
        limit = time.monotonic() + self.cfg.graceful_timeout
        while self.WORKERS and time.monotonic() < limit:
            try:
                sig = self.SIG_QUEUE.get(timeout=0.05)
            except queue.Empty:
                sig = None
            if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
                worker.log("a second signal: stopping now")
                clean = False
                break
            clean &= self._reap()
        if self.WORKERS:
            clean = False
            self.kill_workers(signal.SIGKILL)
            while self.WORKERS:
                self._reap()
                time.sleep(0.01)
        return clean

    def _reap(self) -> bool:
        """Reaps stopped workers; False if one of them did not exit with status 0."""
        clean = True
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return clean
            if not pid:
                return clean
            if self.WORKERS.pop(pid, None) is not None:
                code = os.waitstatus_to_exitcode(status)
                # A worker forked just before the signal may die of it before its handler is set.
                clean &= code == 0 or code == -signal.SIGTERM


def raise_open_file_limit() -> None:
    """1,024 connections per worker need more descriptors than a soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def main(argv: list[str] | None = None) -> None:
    try:
        options = parse_command_line(sys.argv[1:] if argv is None else argv)
    except UsageError as err:
        print(f"rusty_qr.serve: {err} ({USAGE})", file=sys.stderr)
        sys.exit(2)
    if options["help"]:
        print(USAGE)
        return
    worker.LOG_PREFIX[0] = f"[{options['tier']} master]"
    raise_open_file_limit()
    Host(options).run()


if __name__ == "__main__":
    main()
