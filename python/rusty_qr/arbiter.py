"""The Python host's master: gunicorn's Arbiter, with the ready line, a graceful SIGINT and the
exit statuses of the contract, and its logger without the line about a worker that failed its
self-check. Run by rusty_qr.host.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import time

from gunicorn import glogging
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer

from . import readiness
from .logs import log


class QuietLogger(glogging.Logger):
    """gunicorn's logger, without the master's line about a worker that failed its self-check
    (the worker has already said why, in one line)."""

    def error(self, msg, *args, **kwargs):
        if msg.startswith("Worker (pid:%s) exited with code") and args[1:2] == (
            Arbiter.WORKER_BOOT_ERROR,
        ):
            return
        super().error(msg, *args, **kwargs)


def halt_if_starting(arbiter, _worker):
    """gunicorn's `child_exit` hook, when a worker is reaped (not for a boot error, which stops
    the master): a worker that dies before every worker is ready would only crash-loop, so stop."""
    if not getattr(arbiter, "announced", True):
        raise HaltServer("a worker exited during start-up", 1)


class HostArbiter(Arbiter):
    """gunicorn's master, with the ready line, a graceful SIGINT and the exit statuses of the
    contract.

    - Ready: each worker writes its pid to a pipe once it listens (rusty_qr.readiness); the master
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
        self.ready_r = readiness.open_pipe()

    handle_int = Arbiter.handle_term

    def wait_for_signals(self, timeout=1.0):
        # Until the ready line is out, look at the pipe every 50 ms.
        if not self.announced:
            self._read_ready()
            timeout = min(timeout, 0.05)
        return super().wait_for_signals(timeout)

    def _read_ready(self):
        self.ready_pids.update(readiness.read_pids(self.ready_r))
        live = set(self.WORKERS)
        if len(live) >= self.num_workers and live <= self.ready_pids:
            port = self.LISTENERS[0].getsockname()[1] if self.LISTENERS else self.app.port
            print(f"listening on http://127.0.0.1:{port}", flush=True)
            self.announced = True

    def halt(self, reason=None, exit_status=0):
        self._stop_control_server()
        clean = self.stop()
        if exit_status != 0 and reason and exit_status != self.WORKER_BOOT_ERROR:
            log(reason)
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
                log("a second signal: stopping now")
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
