"""Reading request heads and writing answers on the main thread, and the worker's open
connections: each one waits for its next head, is being answered by a pool thread, or has its
answer being written. A head is read without blocking, as its bytes come, and handed over only
once it is whole (up to its blank line); an answer is written without blocking, as the client
reads it: so no slow client, sending or reading, ever holds a thread. A head over MAX_HEAD_BYTES
gets a bodiless 431; one not complete HEADER_TIMEOUT_S after its connection opened (or its
previous answer was written) is cut off, with a bodiless 408 if part of it came; an answer the
client takes nothing of for HEADER_TIMEOUT_S is cut off too. Heads pipelined behind a request are
taken from what was read, one at a time: the next once the answer before it is written.
"""

from __future__ import annotations

import os
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial

from .lingering import Lingering
from .refusals import bodiless

#: Request line and headers up to this many bytes reach the app (a 60 KB URL gets the contract's
#: `text must be <= 512 bytes`); a longer head gets 431. Node's maxHeaderSize is the same.
MAX_HEAD_BYTES = 64 * 1024
#: Header fields a head may have (the contract's rule for every host, and nginx's default): the
#: 1,001st gets 431.
MAX_HEAD_FIELDS = 1000
#: A connection whose head is not all there this long after it opened (or after its previous
#: answer) is closed, as in node/http/serve-tier.js and qr-server.
HEADER_TIMEOUT_S = float(os.environ.get("RUSTY_QR_HEADER_TIMEOUT_S") or 10.0)  # tests shorten it


def unread_bytes(sock: socket.socket) -> bool:
    """Whether the client has sent bytes that wait, unread, on the (non-blocking) socket."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except OSError:  # nothing waiting (BlockingIOError), or the connection is gone
        return False


class Conn:
    """One client connection, owned by the main thread but while a pool thread answers it."""

    __slots__ = (
        "sock",
        "client",
        "server",
        "buf",
        "scanned",
        "state",
        "token",
        "registered",
        "out",
        "keep",
    )

    HEAD, BUSY, WRITING, CLOSED = "head", "busy", "writing", "closed"

    def __init__(self, sock: socket.socket, client, server):
        self.sock = sock
        self.client = client
        self.server = server
        self.buf = bytearray()  # what came of the next head (and maybe more, pipelined)
        self.scanned = 0  # how much of buf is known not to end a head
        self.state = Conn.HEAD
        self.token = 0  # which head or write the current timeout entry is for
        self.registered = False  # on the selector, waiting for bytes or for room to write
        self.out = memoryview(b"")  # what is left to write of its answer
        self.keep = False  # whether it waits for its next head once the answer is written


class HeadReader:
    """The open connections, the reading of their heads and the writing of their answers.
    `on_head(conn, head)` is called with each whole head (and what was read past it); `answered`
    takes the connection back with its answer; `may_keep()` says whether a connection may still
    wait for another head once its answer is written (not once the drain's grace is over)."""

    def __init__(
        self,
        poller: selectors.BaseSelector,
        lingering: Lingering,
        on_head: Callable[[Conn, bytes], None],
        may_keep: Callable[[], bool],
    ):
        self.poller = poller
        self.lingering = lingering
        self.on_head = on_head
        self.may_keep = may_keep
        self.conns: set[Conn] = set()
        self.timeouts: deque = deque()  # (deadline, conn, token), deadlines in order

    def __len__(self) -> int:
        """How many connections are open."""
        return len(self.conns)

    def busy(self) -> int:
        """How many connections have an answer being made or written."""
        return sum(1 for conn in self.conns if conn.state in (Conn.BUSY, Conn.WRITING))

    def open(self, sock: socket.socket, client, server):
        """Takes a new connection (non-blocking) and waits for its first head."""
        conn = Conn(sock, client, server)
        self.conns.add(conn)
        self._expect_head(conn)

    def _expect_head(self, conn: Conn):
        conn.state = Conn.HEAD
        conn.token += 1
        self.timeouts.append((time.monotonic() + HEADER_TIMEOUT_S, conn, conn.token))
        if conn.buf and self._scan(conn):
            return  # a pipelined head was already here
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
        conn.registered = True

    def _on_readable(self, conn: Conn, _sock):
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close(conn)
            return
        if not data:
            self.close(conn)
            return
        conn.buf += data
        self._scan(conn)

    def _scan(self, conn: Conn) -> bool:
        """Looks at the bytes that came since the last look: hands a whole head over, or
        refuses one that is too long. Each byte is looked at a bounded number of times."""
        buf = conn.buf
        end = buf.find(b"\r\n\r\n", max(conn.scanned - 3, 0))
        # A bare LF never ends a head here, but gunicorn's parser refuses it at once (400):
        # hand it over rather than wait for the timeout.
        bare_lf = False
        limit = end if end != -1 else len(buf)
        at = buf.find(b"\n", conn.scanned, limit)
        while at != -1:
            if at == 0 or buf[at - 1] != 0x0D:
                bare_lf = True
                break
            at = buf.find(b"\n", at + 1, limit)
        head_len = end + 4 if end != -1 else len(buf)
        if head_len > MAX_HEAD_BYTES + (0 if end != -1 else 3):
            self.refuse(conn, bodiless(431))
            return True
        if end != -1 or bare_lf:
            self._hand_over(conn)
            return True
        conn.scanned = len(buf)
        return False

    def _hand_over(self, conn: Conn):
        if conn.registered:
            self.poller.unregister(conn.sock)
            conn.registered = False
        conn.state = Conn.BUSY
        data = bytes(conn.buf)
        conn.buf = bytearray()
        conn.scanned = 0
        self.on_head(conn, data)

    def answered(self, conn: Conn, future: Future):
        """Back on the main thread after an answer: `future` holds (keep the connection, the bytes
        read past the request, the answer). The answer is written as the client takes it; then the
        connection waits for its next head if the answer kept it and `may_keep()`; else it closes."""
        if conn.state is not Conn.BUSY:
            return  # cut at the drain limit meanwhile
        try:
            keep_alive, leftover, answer = future.result()
        except Exception:  # noqa: BLE001 - the answer catches everything; this is a last resort
            keep_alive, leftover, answer = False, b"", b""
        try:
            conn.sock.setblocking(False)
        except OSError:
            self.close(conn)
            return
        conn.buf = bytearray(leftover)
        conn.keep = keep_alive
        conn.out = memoryview(answer)
        conn.state = Conn.WRITING
        self._write(conn)

    def _write(self, conn: Conn):
        """Writes what the socket takes of the answer; once all is written, the next head."""
        try:
            while conn.out:
                sent = conn.sock.send(conn.out)
                conn.out = conn.out[sent:]
                conn.token += 1  # progress: the stall timeout starts again
        except (BlockingIOError, InterruptedError):
            if not conn.registered:
                self.poller.register(conn.sock, selectors.EVENT_WRITE, partial(self._on_writable, conn))
                conn.registered = True
            self.timeouts.append((time.monotonic() + HEADER_TIMEOUT_S, conn, conn.token))
            return
        except OSError:
            self.close(conn)
            return
        if conn.registered:
            self.poller.unregister(conn.sock)
            conn.registered = False
        if conn.keep and self.may_keep():
            self._expect_head(conn)
        else:
            self.close(conn, linger=True)

    def _on_writable(self, conn: Conn, _sock):
        self._write(conn)

    def expire(self, now: float):
        """The header timeout, and the write stall's: cuts off every connection whose head is
        late or whose client has taken nothing of its answer for HEADER_TIMEOUT_S."""
        while self.timeouts and self.timeouts[0][0] <= now:
            _, conn, token = self.timeouts.popleft()
            if conn.token != token:
                continue
            if conn.state is Conn.WRITING:
                self.close(conn)
            elif conn.state is Conn.HEAD:
                # A 408 if part of a head came, else just closed.
                if conn.buf:
                    self.refuse(conn, bodiless(408))
                else:
                    self.close(conn)

    def next_deadline(self) -> float | None:
        """When expire has something to do next, at the earliest."""
        return self.timeouts[0][0] if self.timeouts else None

    def refuse(self, conn: Conn, response: bytes):
        """Sends the HTTP layer's `response` (if the socket takes it) and closes."""
        try:
            conn.sock.send(response)
        except OSError:
            pass
        self.close(conn, linger=True)

    def close(self, conn: Conn, linger: bool = False):
        """Closes `conn`: at once, or lingering (see rusty_qr.connections.lingering)."""
        if conn.registered:
            self.poller.unregister(conn.sock)
            conn.registered = False
        conn.state = Conn.CLOSED
        self.conns.discard(conn)
        if linger:
            self.lingering.close(conn.sock)
        else:
            conn.sock.close()

    def close_waiting(self):
        """Closes every connection not being answered (kept alive, silent, or halfway through a
        head); those being answered close after their answer. A kept-alive connection whose
        client has sent bytes this thread has not read yet (its pool threads held the GIL) is
        left to be read and answered: closing it would reset a request sent in time."""
        for conn in list(self.conns):
            if conn.state is Conn.HEAD and (conn.buf or not unread_bytes(conn.sock)):
                self.close(conn)

    def close_all(self):
        """Closes every connection at once (the worker is exiting)."""
        for conn in list(self.conns):
            self.close(conn)
