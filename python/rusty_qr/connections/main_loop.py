"""ContractWorker, the Python host's gunicorn worker (`worker_class`, set by rusty_qr.host):
gthread's ThreadWorker, whose main thread runs the loop that drives this package's parts
(accepting, reading heads, lingering closes, the drain) and hands each whole head to a pool
thread (answering); plus gunicorn's hooks for signals and the app's load.

It keeps gthread's thread pool, its `handle_request`, gunicorn's HTTP/1.1 parser and WSGI layer
and the master's heartbeat; rusty_qr.connections says what it changes, and why.
"""

from __future__ import annotations

import os
import selectors
import signal
import sys
import time
from concurrent.futures import Future

from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import ThreadWorker

from .. import readiness
from ..logs import log
from .accepting import Acceptor
from .answering import answer
from .drain import DRAINING, Drain, closing_once_draining
from .heads import Conn, HeadReader
from .lingering import Lingering
from .refusals import send_refusal

#: The longest the main loop sleeps with nothing to do (the heartbeat is sent once per turn).
MAX_SLEEP_S = 1.0


class ContractWorker(ThreadWorker):
    """gthread's ThreadWorker with the contract's connection handling (rusty_qr.connections)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # gthread's handle_request closes every answer's connection once len(keepalived_conns)
        # reaches worker_connections - threads; this worker keeps no such list (kept-alive
        # connections are in its HeadReader, under the bound), so that check must never fire.
        self.max_keepalived = sys.maxsize

    @classmethod
    def check_config(cls, cfg, log):
        # gthread warns when worker_connections <= threads (its keep-alive list would be empty);
        # see max_keepalived above: not so here.
        pass

    # -- gunicorn's hooks ---------------------------------------------------------------------

    def init_signals(self):
        super().init_signals()
        # gunicorn's worker quits at once on SIGINT; a terminal's Ctrl-C reaches every process of
        # the group, and the master's graceful stop (SIGTERM to each worker) must win.
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def handle_exit(self, sig, frame):
        # SIGTERM (from the master, maybe also from a group-wide kill: only the first counts).
        # /healthz says `draining` from now on; the main loop does the rest.
        DRAINING.set()
        super().handle_exit(sig, frame)

    def load_wsgi(self):
        # The app's load (rusty_qr.host) runs the tier's self-check. A failure is one line and
        # exit status 3, which makes the master stop (gunicorn would log a traceback per worker).
        try:
            super().load_wsgi()
        except Exception as err:  # noqa: BLE001 - whatever the tier raised is its message
            log(f"failed its start-up self-check: {err}")
            os._exit(Arbiter.WORKER_BOOT_ERROR)
        self.wsgi = closing_once_draining(self.wsgi)

    def handle_error(self, req, client, addr, exc):
        # Replaces gunicorn's HTML error page: the HTTP layer's refusals have no body the contract
        # fixes, and every other tier sends none. A failure that is not the client's is logged.
        send_refusal(client, exc, self.log.debug)

    # -- the main loop ------------------------------------------------------------------------

    def run(self):
        # Replaces ThreadWorker.run: its loop stops accepting at the bound (we answer 503), keeps
        # no head deadline, and drains with a 2 s linger and the whole keep-alive timeout.
        lingering = Lingering(self.poller)
        # `_answered` takes connections back from the pool: it needs the two last. A connection
        # waits for another head only until the drain's grace is over.
        self.heads = heads = HeadReader(
            self.poller,
            lingering,
            self._answer_in_pool,
            may_keep=lambda: not self.drain.idle_closed,
        )
        acceptor = Acceptor(
            self.poller,
            self.sockets,
            heads,
            lingering,
            bound=self.cfg.worker_connections,
            alone=self.cfg.workers == 1,
        )
        self.drain = drain = Drain(acceptor, heads, lingering)
        self.poller.register(
            self.method_queue.fileno(), selectors.EVENT_READ, self.method_queue.run_callbacks
        )
        acceptor.set_accepting(True)
        readiness.tell_master()
        clean = True
        while True:
            self.notify()
            now = time.monotonic()
            if not self.alive and drain.started is None:
                drain.begin(now)
            if drain.started is not None:
                drained = drain.advance(now)
                if drained is not None:
                    clean = drained
                    break
            else:
                acceptor.resume_if_due(now)
            deadlines = [
                d
                for d in (
                    heads.next_deadline(),
                    lingering.next_deadline(),
                    drain.next_deadline(),
                    acceptor.next_deadline(),
                )
                if d is not None
            ]
            wake = min([now + MAX_SLEEP_S, *deadlines])
            self.wait_for_and_dispatch_events(timeout=max(wake - now, 0.0))
            now = time.monotonic()
            heads.expire(now)
            lingering.expire(now)
            if not self.is_parent_alive():
                clean = False
                break
        heads.close_all()
        lingering.release_all()
        self.tpool.shutdown(wait=False, cancel_futures=True)
        self.poller.close()
        self.method_queue.close()
        if not clean:
            sys.exit(1)

    def _answer_in_pool(self, conn: Conn, head: bytes):
        """HeadReader's `on_head`: a pool thread answers; the main thread takes the connection
        back when it is done."""
        future = self.tpool.submit(answer, self, conn, head)
        future.add_done_callback(lambda f: self.method_queue.defer(self._answered, conn, f))

    def _answered(self, conn: Conn, future: Future):
        # Back on the main thread: keep the connection for its next head, or close it (always,
        # once the drain's grace is over).
        self.heads.answered(conn, future)
