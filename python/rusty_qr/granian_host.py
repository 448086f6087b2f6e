"""granian (the Rust HTTP server, 2.8.7) in its WSGI interface, configured in code: the app of one
tier behind rusty_qr.granian_contract, on 127.0.0.1, in single or cluster mode. Started by
`python -m rusty_qr --server granian` (python/rusty_qr/__main__.py); tested by
python/tests/test_granian.py. Its settings, and the contract's rules it keeps and does not:
docs/python.md, "On granian".

The master is granian's `MPServer`, with the host's contract added: the ready line once every
worker has passed its self-check and listens (rusty_qr.readiness), SIGINT stopping like SIGTERM,
a second signal killing the workers and exiting 1, exit status 1 when a worker failed its
self-check or did not stop cleanly. The worker (`serve_worker`) is granian 2.8.7's
`MPServer._spawn_wsgi_worker` with the host's shutdown: SIGTERM turns /healthz to 503 at once,
granian keeps serving for 250 ms before it stops accepting and closes idle connections, and the
worker waits for the requests in flight (exit 1 if some still run at 9.5 s); SIGINT is ignored
in workers (the master decides).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from functools import partial

from granian._futures import _new_cbscheduler
from granian._granian import WorkerSignal, WSGIWorker
from granian.constants import HTTPModes, Interfaces, TaskImpl
from granian.http import HTTP1Settings
from granian.server.common import WORKERS_METHODS
from granian.server.mp import MPServer, WorkerProcess
from granian.wsgi import _callback_wrapper

from . import readiness, tiers
from .app import create_app
from .granian_contract import GranianContract, InFlight
from .host import cpu_count
from .logs import log, set_prefix
from .query import Options

#: How long a worker keeps serving after SIGTERM (a request already on its way is answered).
GRACE_S = 0.25
#: A worker still answering this long after SIGTERM gives up (exit status 1).
DRAIN_LIMIT_S = 9.5
#: Once the app has made every answer, how long hyper gets to write them before the worker exits.
WRITE_MARGIN_S = 0.5
#: The exit status of a worker whose tier failed its self-check.
SELF_CHECK_FAILED = 3
#: A client has this long to send a whole request head (RUSTY_QR_HEADER_TIMEOUT_S: the tests').
HEADER_TIMEOUT_S = float(os.environ.get("RUSTY_QR_HEADER_TIMEOUT_S", "10"))
#: hyper's read buffer, which bounds a request head (431 past it; docs/python.md says where).
MAX_BUFFER_BYTES = 64 * 1024

#: Set in a worker once SIGTERM came: /healthz answers 503 and every answer closes its connection.
DRAINING = threading.Event()
#: The requests a worker's app is answering.
IN_FLIGHT = InFlight()


def claim_port(port: int) -> int:
    """The port to serve on: `port`, proved free by a bind without SO_REUSEPORT (granian binds
    with it, and would share a port another server listens on), or a free one for 0 (granian
    binds a socket per worker, so 0 would give each its own port). Exits 1 with one line if the
    port is taken."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
            return probe.getsockname()[1]
    except OSError as err:
        log(f"cannot listen on 127.0.0.1:{port}: {err.strerror}")
        sys.exit(1)


def load_app(options: dict):
    """Runs first in each worker (granian's target loader): its signals, the tier, its self-check,
    the app behind the contract's middleware. A failure is one line and exit status 3 (the master
    then stops)."""
    tier, engine = options["tier"], options["engine"]
    set_prefix(f"[{tier} worker {{pid}}]")
    # The worker's signals, from its start: a SIGTERM during the self-check (a sibling failed
    # its own) must not kill it in the middle of a log line.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: DRAINING.set())
    try:
        module = tiers.load(tier)

        def generate(text: str, options: Options) -> bytes:
            return module.generate(text, engine, options)

        tiers.self_check(generate)
    except Exception as err:  # noqa: BLE001 - whatever the tier raised is its message
        log(f"failed its start-up self-check: {err}")
        os._exit(SELF_CHECK_FAILED)
    app = create_app(generate, DRAINING.is_set, log)
    return GranianContract(app, DRAINING.is_set, IN_FLIGHT)


@WorkerProcess.wrap_target
def serve_worker(
    worker_id, callback, sock, ipc, loop, runtime_mode, runtime_threads, runtime_blocking_threads,
    blocking_threads, blocking_threads_idle_timeout, backpressure, task_impl, http_mode,
    http1_settings, http2_settings, _websockets, static_path, log_access_fmt, ssl_ctx, scope_opts,
    metrics,
):  # fmt: skip
    """One worker process: granian's WSGI worker (the arguments are MPServer's), the readiness
    report, and the drain (module doc)."""
    stop = WorkerSignal()
    worker = WSGIWorker(
        worker_id, sock, ipc, runtime_threads, runtime_blocking_threads, blocking_threads,
        blocking_threads_idle_timeout, backpressure, http_mode, http1_settings, http2_settings,
        static_path, *ssl_ctx, metrics,
    )  # fmt: skip
    serve = getattr(worker, WORKERS_METHODS[runtime_mode][(sock[0] or sock[1]).is_uds()])
    wsgi = _callback_wrapper(callback, scope_opts, log_access_fmt)
    serve(_new_cbscheduler(loop, wsgi, impl_asyncio=task_impl == TaskImpl.asyncio), loop, stop)
    readiness.tell_master()
    DRAINING.wait()
    # The master's own SIGTERM may follow the one the process group got: the drain has begun,
    # and one arriving while Python finalizes would kill the worker (a non-zero exit).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(GRACE_S)
    stop.set()
    if not IN_FLIGHT.wait_idle(DRAIN_LIMIT_S - GRACE_S):
        log(f"requests still running {DRAIN_LIMIT_S} s after SIGTERM: exiting")
        os._exit(1)
    # The answers made are hyper's to write (a few KB each: a moment); then exit at once. Left to
    # the interpreter's finalization, the worker waits for granian's Rust threads, which go on
    # serving what clients that have gone had pipelined (measured: more than 10 s, past the
    # master's kill).
    time.sleep(WRITE_MARGIN_S)
    os._exit(0)


class GranianMaster(MPServer):
    """granian's master with the host's contract (module doc): `run()` serves until a signal."""

    def __init__(self, options: dict, port: int):
        single = options["mode"] == "single"
        super().__init__(
            "rusty_qr",
            address="127.0.0.1",
            port=port,
            interface=Interfaces.WSGI,
            http=HTTPModes.http1,
            # single: one process, one Python thread per CPU (py-tier-3 releases the GIL, so its
            # threads use every core); cluster: one process per CPU, one Python thread each.
            # Either way one Rust I/O thread per process: it does not run Python.
            workers=1 if single else options["workers"],
            blocking_threads=cpu_count() if single else 1,
            runtime_threads=1,
            # Requests a worker takes in at once (the rest wait, unread): --max-connections.
            backpressure=options["max_connections"],
            backlog=1024,
            http1_settings=HTTP1Settings(
                header_read_timeout=int(HEADER_TIMEOUT_S * 1000),
                keep_alive=True,
                max_buffer_size=MAX_BUFFER_BYTES,
                # With pipeline_flush, hyper closes a connection it refuses (400, 414, 431)
                # without a word (measured); pipelined answers keep their order without it.
                pipeline_flush=False,
            ),
            # Our own lines only (granian's would say "Unexpected exit" for a failed self-check).
            log_enabled=False,
            workers_kill_timeout=10,
            # A worker that dies after start-up is replaced (granian's default stops the server);
            # two deaths of one worker within 5.5 s stop it (granian's crash-loop rule).
            respawn_failed_workers=True,
        )
        self.options = options
        self.ready_pipe = readiness.open_pipe()

    def run(self):
        loader = partial(load_app, self.options)
        self.serve(spawn_target=serve_worker, target_loader=loader, wrap_loader=False)

    def startup(self, spawn_target, target_loader):
        super().startup(spawn_target, target_loader)
        waiting = {wrk.inner.pid for wrk in self.wrks}
        while waiting:
            if any(not wrk.is_alive() for wrk in self.wrks):
                self.stop_now(1)
            if self.interrupt_signal:
                self.stop_now(0)
            waiting -= set(readiness.read_pids(self.ready_pipe))
            time.sleep(0.02)
        print(f"listening on http://127.0.0.1:{self.bind_port}", flush=True)

    def _spawn_worker(self, idx, target, callback_loader):
        # granian's watcher takes any exit it did not order for a crash (and respawns, forking a
        # master that has threads); a worker that exits 0 has drained on a signal the process
        # group got before the master handled its own.
        worker = super()._spawn_worker(idx, target, callback_loader)
        granians_watcher = worker._watcher

        def watcher():
            worker.inner.join()
            if worker.inner.exitcode == 0:
                worker.interrupt_by_parent = True
            granians_watcher()

        worker._watcher = watcher
        return worker

    def signal_handler_interrupt(self, *args, **kwargs):
        if self.interrupt_signal:  # a second signal while stopping
            for wrk in self.wrks:
                wrk.kill()
            os._exit(1)
        # A signal to the whole process group reaches the workers too, and they drain and exit
        # by themselves: mark them stopped by the master now, before its main loop gets to it,
        # or granian's watcher takes a worker's exit for a crash (exit status 1).
        for wrk in self.wrks:
            wrk.interrupt_by_parent = True
        super().signal_handler_interrupt(*args, **kwargs)

    def stop_now(self, status: int):
        """Stops every worker (SIGTERM, then SIGKILL at 10 s) and exits with `status`."""
        self._stop_workers()
        sys.exit(status)

    def _stop_workers(self):
        workers = list(self.wrks)
        super()._stop_workers()
        # Stopping on a signal, the exit status is the workers' own: granian's watcher may have
        # taken a worker that drained and exited 0 on the process group's SIGTERM, before the
        # master handled its own, for a crash. (A crash loop keeps its status 1.)
        if self.interrupt_signal:
            self.interrupt_children.clear()
        for wrk in workers:
            # granian's watcher thread joins each worker too: the one whose waitpid loses the race
            # sees no status until the other has recorded it.
            deadline = time.monotonic() + 2
            while wrk.inner.exitcode is None and time.monotonic() < deadline:
                time.sleep(0.01)
            if wrk.inner.exitcode != 0:
                if wrk.inner.exitcode != SELF_CHECK_FAILED:  # that one has said why itself
                    log(f"worker {wrk.inner.pid} exited with status {wrk.inner.exitcode}")
                self.interrupt_children.append(-1)  # shutdown() then exits 1


def run(options: dict) -> None:
    """`python -m rusty_qr --server granian`: serves until SIGTERM or SIGINT, then exits."""
    GranianMaster(options, claim_port(options["port"])).run()
