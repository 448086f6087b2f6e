"""gunicorn, configured in code (`BaseApplication`): the app of one tier behind the contract's
worker (rusty_qr.connections), on 127.0.0.1, in single or cluster mode, under HostArbiter
(rusty_qr.arbiter). Started by `python -m rusty_qr` (python/rusty_qr/__main__.py).
"""

from __future__ import annotations

import os
import resource
import socket
import sys

from gunicorn.app.base import BaseApplication

from . import tiers
from .app import create_app
from .arbiter import HostArbiter, halt_if_starting
from .connections.drain import DRAINING
from .connections.heads import MAX_HEAD_BYTES, MAX_HEAD_FIELDS
from .logs import log, set_prefix
from .query import Options


def cpu_count() -> int:
    """The CPUs this process may run on (Node's availableParallelism)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def raise_open_file_limit() -> None:
    """1,024 connections per worker need more descriptors than a soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


class Host(BaseApplication):
    """gunicorn, configured in code: the app of one tier, the contract's worker, 127.0.0.1.
    `options` are the command line's (rusty_qr.__main__.parse_command_line)."""

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
                log(f"cannot listen on 127.0.0.1:{self.port}: {err.strerror}")
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
            "worker_class": "rusty_qr.connections.main_loop.ContractWorker",
            # The connection bound per worker (ContractWorker answers 503 past it).
            "worker_connections": o["max_connections"],
            # The master's hard stop after SIGTERM (the worker gives up at 9.5 s itself).
            "graceful_timeout": 10,
            # A worker that misses the heartbeat this long is killed and replaced.
            "timeout": 30,
            # Limits of gunicorn's parser, as every host's: ContractWorker bounds the whole head
            # at 64 KiB itself (431), so a 60 KB URL reaches the app; at most 1,000 header
            # fields (gunicorn refuses the 1,001st: 431).
            "limit_request_line": 0,
            "limit_request_fields": MAX_HEAD_FIELDS,
            "limit_request_field_size": MAX_HEAD_BYTES,
            # A header name with '_' is dropped from the environ instead of refused (400):
            # the contract answers such a request as if the header were not there.
            "header_map": "drop",
            # No client is a trusted proxy, 127.0.0.1 included (gunicorn's default trusts it):
            # a SCRIPT_NAME header, or X-Forwarded-Proto and X-Forwarded-Ssl that disagree, then
            # change nothing, as in every other host, instead of failing the request (400).
            "forwarded_allow_ips": "",
            "secure_scheme_headers": {},
            # The same parser everywhere (gunicorn_h1c, the optional C parser, is not installed).
            "http_parser": "python",
            # No Unix control socket in the working directory, and no thread in the master
            # before it forks.
            "control_socket_disable": True,
            "loglevel": "warning",
            "errorlog": "-",
            "accesslog": None,
            "logger_class": "rusty_qr.arbiter.QuietLogger",
            "proc_name": f"rusty-qr {o['tier']}",
            "child_exit": halt_if_starting,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        """Runs in each worker: the tier, its self-check, the app (ContractWorker.load_wsgi turns a
        failure into one line and exit status 3)."""
        tier, engine = self.options["tier"], self.options["engine"]
        set_prefix(f"[{tier} worker {{pid}}]")
        module = tiers.load(tier)

        def generate(text: str, options: Options) -> bytes:
            return module.generate(text, engine, options)

        tiers.self_check(generate)
        return create_app(generate, DRAINING.is_set, log)

    def run(self):
        HostArbiter(self).run()
