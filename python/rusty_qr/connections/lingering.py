"""Closing a connection without resetting its client: the write side is shut at once, and what
the client still sends is read and dropped, on the main thread's selector, until it closes too or
LINGER_S has passed. (A socket closed with unread bytes in its buffer sends a reset, which can
take from the client an answer it had not read yet; gunicorn's close_graceful avoids that by
blocking the main thread for as long.)
"""

from __future__ import annotations

import selectors
import socket
import time
from collections import deque

#: How long a closing connection is read from (and what it sends dropped) so that closing does
#: not reset the client before it has read its answer.
LINGER_S = 1.0
#: At most this many closing connections are lingered on at once; past it they close at once.
MAX_LINGERING = 256


class Lingering:
    """The sockets being closed, each until its client closes or its deadline passes."""

    def __init__(self, poller: selectors.BaseSelector):
        self.poller = poller
        self.deadlines: dict[socket.socket, float] = {}
        self.order: deque = deque()  # (deadline, sock), deadlines in order

    def __len__(self) -> int:
        return len(self.deadlines)

    def close(self, sock: socket.socket):
        """Closes `sock` without resetting its client: the write side now, the rest once the
        client has closed too or LINGER_S has passed, reading and dropping what it sends."""
        if len(self.deadlines) >= MAX_LINGERING:
            sock.close()
            return
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.close()
            return
        deadline = time.monotonic() + LINGER_S
        self.deadlines[sock] = deadline
        self.order.append((deadline, sock))
        self.poller.register(sock, selectors.EVENT_READ, self._on_readable)

    def _on_readable(self, sock: socket.socket):
        try:
            if sock.recv(65536):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._release(sock)

    def _release(self, sock: socket.socket):
        del self.deadlines[sock]
        try:
            self.poller.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    def expire(self, now: float):
        """Closes the sockets whose deadline has passed."""
        while self.order and self.order[0][0] <= now:
            _, sock = self.order.popleft()
            if sock in self.deadlines:
                self._release(sock)

    def next_deadline(self) -> float | None:
        """When expire has something to do next, at the earliest."""
        return self.order[0][0] if self.order else None

    def release_all(self):
        """Closes every socket still lingering (the worker is exiting)."""
        for sock in list(self.deadlines):
            self._release(sock)
