"""Accepting connections, and the per-worker connection bound: past `--max-connections` open
connections a new one is answered 503 `server is busy` before anything is read, and closed (an
overload is shed, not queued: gthread stops accepting and leaves clients in the kernel's queue).
Every connection gets TCP_NODELAY, and its first head is read by rusty_qr.connections.heads.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time

from ..logs import log
from .heads import HeadReader
from .lingering import Lingering
from .refusals import BUSY_RESPONSE

#: Connections accepted per wake-up of the listening socket by a worker alone on it. Workers that
#: share it (cluster mode) take one each time: with a batch, the first to wake took a whole burst
#: of keep-alive connections and served them all while its siblings idled (measured: 50 of 50).
ACCEPT_BATCH = 64
#: How long accepting pauses when the process is out of file descriptors.
OUT_OF_FILES_PAUSE_S = 0.1


class Acceptor:
    """Accepts on the worker's listening sockets, on the main thread's selector."""

    def __init__(
        self,
        poller: selectors.BaseSelector,
        listeners: list[socket.socket],
        heads: HeadReader,
        lingering: Lingering,
        bound: int,
        alone: bool,
    ):
        self.poller = poller
        self.listeners = listeners
        self.heads = heads
        self.lingering = lingering
        self.bound = bound
        self.batch = ACCEPT_BATCH if alone else 1
        self.accepting = False
        self.paused_until = 0.0  # 0: not paused

    def set_accepting(self, enabled: bool):
        """Starts or stops watching the listening sockets."""
        if enabled == self.accepting:
            return
        for listener in self.listeners:
            if enabled:
                listener.setblocking(False)
                self.poller.register(listener, selectors.EVENT_READ, self._accept)
            else:
                self.poller.unregister(listener)
        self.accepting = enabled

    def _accept(self, listener: socket.socket):
        for _ in range(self.batch):
            try:
                sock, client = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:
                if err.errno == errno.ECONNABORTED:
                    continue
                if err.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # Out of descriptors: the listening socket would stay readable and spin the
                    # loop; try again in 100 ms (connections wait in the kernel's queue).
                    log(f"cannot accept: {err.strerror}; pausing 100 ms")
                    self.set_accepting(False)
                    self.paused_until = time.monotonic() + OUT_OF_FILES_PAUSE_S
                    return
                raise
            sock.setblocking(False)
            # gunicorn writes the head and the body of an answer in two sends: without this, the
            # second waits for the client's delayed ACK (Nagle), up to 40 ms per answer.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if len(self.heads) >= self.bound:
                self._turn_away(sock)
                continue
            self.heads.open(sock, client, listener.getsockname())

    def _turn_away(self, sock: socket.socket):
        # Past the bound: the 503 goes out before anything is read (as tier-4 does, so a HEAD gets
        # its body too), then the connection closes.
        try:
            sock.send(BUSY_RESPONSE)
        except OSError:
            sock.close()
            return
        self.lingering.close(sock)

    def resume_if_due(self, now: float):
        """Accepts again once a pause for want of descriptors is over."""
        if self.paused_until and now >= self.paused_until:
            self.paused_until = 0.0
            self.set_accepting(True)

    def next_deadline(self) -> float | None:
        """When resume_if_due has something to do, if ever."""
        return self.paused_until or None

    def stop(self):
        """Stops accepting for good and closes this worker's copy of the listening sockets (the
        master closed its own first): connections the kernel had queued but nobody accepted are
        reset by it, as with Node's server.close()."""
        self.set_accepting(False)
        for listener in self.listeners:
            listener.close()
        self.paused_until = 0.0
