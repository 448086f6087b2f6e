"""Draining at SIGTERM, so that the requests clients have already sent are answered (what
crates/qr-server/src/drain.rs does for tier-4 and node/http/serve-tier.js for Node): /healthz answers
503 `draining` at once (DRAINING); the worker closes its copy of the listening socket; the
requests already read, or arriving within IDLE_GRACE_S, are answered, each answer begun after the
signal with `Connection: close` (closing_once_draining); then every other connection (kept alive,
silent, half a head) closes; the worker is done once every answer is written, and cuts what is
left at DRAIN_LIMIT_S (exit 1). An answer whose head was decided before the signal keeps its
`keep-alive`, and its connection stays open for the next request within the grace: closing it
instead would drop a request its client may already have sent, with nothing said.
"""

from __future__ import annotations

import threading

from ..logs import log
from .accepting import Acceptor
from .heads import HeadReader
from .lingering import Lingering

#: After SIGTERM, how long a connection with nothing in flight stays open for a request its client
#: sent before it could know (the other hosts' grace).
IDLE_GRACE_S = 0.25
#: After SIGTERM, how long requests in flight get before their connections are cut (exit 1); the
#: master's graceful_timeout (10 s) is the hard stop after it.
DRAIN_LIMIT_S = 9.5

#: Set in each worker once its shutdown has begun: the app's /healthz reads it.
DRAINING = threading.Event()
#: The request a pool thread is answering (one at a time per thread), for closing_once_draining.
ANSWERING = threading.local()


class Drain:
    """One worker's drain, driven by its main loop: begin, then advance on every turn."""

    def __init__(self, acceptor: Acceptor, heads: HeadReader, lingering: Lingering):
        self.acceptor = acceptor
        self.heads = heads
        self.lingering = lingering
        self.started: float | None = None
        self.idle_closed = False  # the grace is over: no connection waits for another request

    def begin(self, now: float):
        """The signal came: /healthz says `draining`, the port closes."""
        self.started = now
        DRAINING.set()
        self.acceptor.stop()
        log(f"SIGTERM: finishing {self.heads.busy()} in-flight request(s)")

    def advance(self, now: float) -> bool | None:
        """One turn of the main loop while draining: once the grace is over, closes every
        connection not being answered (heads.close_waiting). True once nothing is left open, False when what is left
        was cut at DRAIN_LIMIT_S, None while the drain goes on."""
        if now >= self.started + IDLE_GRACE_S:
            # Every turn: a connection left open for its unread request closes once it is read.
            self.idle_closed = True
            self.heads.close_waiting()
        if self.idle_closed and not self.heads and not self.lingering:
            return True
        if now >= self.started + DRAIN_LIMIT_S:
            log(f"{len(self.heads)} connection(s) still busy after {DRAIN_LIMIT_S} s: cut")
            return False
        return None

    def next_deadline(self) -> float | None:
        """When the grace ends, while it runs."""
        if self.started is not None and not self.idle_closed:
            return self.started + IDLE_GRACE_S
        return None


def closing_once_draining(app):
    """`app`, whose answers say `Connection: close` when they begin after SIGTERM: gunicorn's
    Response decides its Connection header from its request when the app starts the response,
    and decides again after the answer whether to keep the connection; forcing the close at that
    first moment keeps the two decisions the same."""

    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            if DRAINING.is_set():
                ANSWERING.req.force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped
