"""The gunicorn worker of the Python host: gthread's ThreadWorker, with the connection handling
of the contract (what node/http/serve.js and crates/qr-server/src/drain.rs do for the other hosts).

Used by rusty_qr.serve (`worker_class`); tested over real sockets by python/tests/test_serve.py.

gthread as shipped (gunicorn 27.0.1) hands every new connection to a pool thread that reads the
request head with blocking reads: a client that sends its head slowly holds one of the pool's few
threads (one per worker in cluster mode) for as long as it likes. So this worker changes who reads
what, and keeps the rest of gthread (its thread pool, its `handle_request`, gunicorn's HTTP/1.1
parser and WSGI layer, the arbiter's heartbeat):

- The main thread reads every request head itself, non-blocking, on gthread's selector: a pool
  thread gets a connection only once a whole head (up to the blank line) is in memory, so no slow
  client ever holds a thread. A head over 64 KiB gets a bodiless 431; a head not complete 10 s
  after the connection was opened (or its previous answer sent) gets the connection closed (a
  bodiless 408 first if part of it came).
- Past `worker_connections` (--max-connections) open connections a new one is answered
  503 `server is busy` at once, before anything is read, and closed: an overload is shed, not
  queued (gthread would stop accepting and leave it in the kernel's queue).
- A target with raw UTF-8 gets the contract's one line (gunicorn's parser would answer its own
  HTML page); every other refusal of the parser is a bodiless 400 (431, 501, 417 where it says).
- A request with a body is answered and its connection closed: the body is never read.
- Closing after an answer never resets the client: the write side is shut and what the client
  still sends is read and dropped for at most 1 s (gunicorn's close_graceful blocks the main
  thread for that long instead).
- SIGTERM: /healthz says 503 `draining` at once (DRAINING), the worker closes its copy of the
  listening socket, answers the requests already read or arriving within 250 ms, closes every
  other connection (idle, silent, half a head) after those 250 ms, and exits 0 once every answer
  is written (1 if some were still running after 9.5 s). Every answer begun after the signal says
  `Connection: close`; one whose head was decided before it keeps its `keep-alive` and its
  connection stays open for the next request (closing it instead would drop a request its client
  may already have sent, with nothing said).
  SIGINT is the master's to handle (a terminal sends it to the whole process group).
"""

from __future__ import annotations

import errno
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from collections import deque
from functools import partial

from gunicorn.http.errors import (
    ExpectationFailed,
    LimitRequestHeaders,
    LimitRequestLine,
    NoMoreData,
    UnsupportedTransferCoding,
)
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker

#: Request line and headers up to this many bytes reach the app (a 60 KB URL gets the contract's
#: `text must be <= 512 bytes`); a longer head gets 431. Node's maxHeaderSize is the same.
MAX_HEAD_BYTES = 64 * 1024
#: A connection whose head is not all there this long after it opened (or after its previous
#: answer) is closed, as in node/http/serve.js and qr-server.
HEADER_TIMEOUT_S = float(os.environ.get("RUSTY_QR_HEADER_TIMEOUT_S") or 10.0)  # tests shorten it
#: After SIGTERM, how long a connection with nothing in flight stays open for a request its client
#: sent before it could know (the other hosts' grace).
IDLE_GRACE_S = 0.25
#: After SIGTERM, how long requests in flight get before their connections are cut (exit 1); the
#: master's graceful_timeout (10 s) is the hard stop after it.
DRAIN_LIMIT_S = 9.5
#: How long a closing connection is read from (and what it sends dropped) so that closing does
#: not reset the client before it has read its answer.
LINGER_S = 1.0
#: At most this many closing connections are lingered on at once; past it they close at once.
MAX_LINGERING = 256
#: Connections accepted per wake-up of the listening socket by a worker alone on it. Workers that
#: share it (cluster mode) take one each time: with a batch, the first to wake took a whole burst
#: of keep-alive connections and served them all while its siblings idled (measured: 50 of 50).
ACCEPT_BATCH = 64

#: Set in each worker once its shutdown has begun: the app's /healthz reads it.
DRAINING = threading.Event()
#: The environment variable naming the pipe on which each worker tells the master it is ready.
READY_FD_ENV = "RUSTY_QR_READY_FD"
#: The exit status that makes the master stop instead of starting another worker (gunicorn's
#: Arbiter.WORKER_BOOT_ERROR).
BOOT_ERROR = 3

_CLOSE = b"Connection: close\r\n"
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 14\r\n" + _CLOSE + b"\r\nserver is busy"
)
BAD_TARGET_BODY = b"request target must be printable ASCII (percent-encode the text)"
BAD_TARGET_RESPONSE = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\n" % len(BAD_TARGET_BODY) + _CLOSE + b"\r\n" + BAD_TARGET_BODY
)
_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
}


def bodiless(status: int) -> bytes:
    """The HTTP layer's own refusal: a status, no body, and the connection closes."""
    return b"HTTP/1.1 %d %s\r\nContent-Length: 0\r\n%s\r\n" % (
        status,
        _REASONS[status].encode(),
        _CLOSE,
    )


def is_raw_utf8_target(head: bytes) -> bool:
    """Whether the request line's target is printable ASCII but for some raw UTF-8 (which
    tier-4 answers with the contract's line); a control byte, DEL or bytes that are not UTF-8
    get the bodiless 400 of the HTTP layer, as in every tier."""
    if head.startswith(b"\r\n"):
        head = head[2:]
    line_end = head.find(b"\r\n")
    line = head if line_end == -1 else head[:line_end]
    first = line.find(b" ")
    second = line.find(b" ", first + 1)
    if first == -1 or second == -1:
        return False
    target = line[first + 1 : second]
    if not any(b >= 0x80 for b in target) or any(b <= 0x20 or b == 0x7F for b in target):
        return False
    try:
        target.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def has_body(req) -> bool:
    """Whether the request says a body follows (Content-Length above 0, or Transfer-Encoding)."""
    for name, value in req.headers:
        if name == "TRANSFER-ENCODING" or (name == "CONTENT-LENGTH" and value.strip() != "0"):
            return True
    return False


def _status_of(exc: Exception) -> int:
    """The status of a request gunicorn's parser refused (its own mapping, without bodies)."""
    if isinstance(exc, (LimitRequestLine, LimitRequestHeaders)):
        return 431
    if isinstance(exc, UnsupportedTransferCoding):
        return 501
    if isinstance(exc, ExpectationFailed):
        return 417
    return 400


class Conn:
    """One client connection, owned by the main thread but while a pool thread answers it."""

    __slots__ = ("sock", "client", "server", "buf", "scanned", "state", "token", "registered")

    HEAD, BUSY, CLOSED = "head", "busy", "closed"

    def __init__(self, sock: socket.socket, client, server):
        self.sock = sock
        self.client = client
        self.server = server
        self.buf = bytearray()  # what came of the next head (and maybe more, pipelined)
        self.scanned = 0  # how much of buf is known not to end a head
        self.state = Conn.HEAD
        self.token = 0  # which head the current timeout entry is for
        self.registered = False  # on the selector, waiting for bytes


class ContractWorker(ThreadWorker):
    """gthread's ThreadWorker with the contract's connection handling (see the module doc)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_connections = self.cfg.worker_connections
        # gthread's handle_request closes every answer's connection once len(keepalived_conns)
        # reaches worker_connections - threads; this worker keeps no such list (kept-alive
        # connections are in self.conns, under the bound), so that check must never fire.
        self.max_keepalived = sys.maxsize
        self.conns: set[Conn] = set()
        self.timeouts: deque = deque()  # (deadline, conn, token), deadlines in order
        self.lingering: dict[socket.socket, float] = {}
        self.linger_order: deque = deque()  # (deadline, sock), in order
        self.drain_started: float | None = None
        self.idle_closed = False
        self.accept_paused_until = 0.0
        self.clean = True
        self.accept_batch = ACCEPT_BATCH if self.cfg.workers == 1 else 1

    @classmethod
    def check_config(cls, cfg, log):
        # gthread warns when worker_connections <= threads (its keep-alive list would be empty);
        # see max_keepalived above: not so here.
        pass

    # -- process set-up ---------------------------------------------------------------------

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
        # The app's load (rusty_qr.serve) runs the tier's self-check. A failure is one line and
        # exit status 3, which makes the master stop (gunicorn would log a traceback per worker).
        try:
            super().load_wsgi()
        except Exception as err:  # noqa: BLE001 - whatever the tier raised is its message
            log(f"failed its start-up self-check: {err}")
            os._exit(BOOT_ERROR)
        self.wsgi = closing_once_draining(self.wsgi)

    # -- the main loop ------------------------------------------------------------------------

    def run(self):
        # Replaces ThreadWorker.run: its loop stops accepting at the bound (we answer 503), keeps
        # no head deadline, and drains with a 2 s linger and the whole keep-alive timeout.
        self.poller.register(
            self.method_queue.fileno(), selectors.EVENT_READ, self.method_queue.run_callbacks
        )
        self._set_accepting(True)
        self._tell_master_ready()
        while True:
            self.notify()
            now = time.monotonic()
            if not self.alive and self.drain_started is None:
                self._start_drain(now)
            if self.drain_started is not None:
                if not self.idle_closed and now >= self.drain_started + IDLE_GRACE_S:
                    self._close_idle()
                if self.idle_closed and not self.conns and not self.lingering:
                    break
                if now >= self.drain_started + DRAIN_LIMIT_S:
                    log(f"{len(self.conns)} connection(s) still busy after {DRAIN_LIMIT_S} s: cut")
                    self.clean = False
                    break
            elif self.accept_paused_until and now >= self.accept_paused_until:
                self.accept_paused_until = 0.0
                self._set_accepting(True)
            self.wait_for_and_dispatch_events(timeout=self._next_wakeup(now))
            self._expire(time.monotonic())
            if not self.is_parent_alive():
                self.clean = False
                break
        for conn in list(self.conns):
            self._close(conn)
        for sock in list(self.lingering):
            self._unlinger(sock)
        self.tpool.shutdown(wait=False, cancel_futures=True)
        self.poller.close()
        self.method_queue.close()
        if not self.clean:
            sys.exit(1)

    def _tell_master_ready(self):
        fd = os.environ.get(READY_FD_ENV)
        if fd is not None:
            try:
                os.write(int(fd), struct.pack("=i", os.getpid()))
            except OSError as err:
                log(f"cannot tell the master this worker is ready: {err}")

    def _next_wakeup(self, now: float) -> float:
        wake = now + 1.0
        if self.timeouts:
            wake = min(wake, self.timeouts[0][0])
        if self.linger_order:
            wake = min(wake, self.linger_order[0][0])
        if self.drain_started is not None and not self.idle_closed:
            wake = min(wake, self.drain_started + IDLE_GRACE_S)
        if self.accept_paused_until:
            wake = min(wake, self.accept_paused_until)
        return max(wake - now, 0.0)

    def _set_accepting(self, enabled: bool):
        if enabled == self._accepting:
            return
        for listener in self.sockets:
            if enabled:
                listener.setblocking(False)
                self.poller.register(listener, selectors.EVENT_READ, self._accept)
            else:
                self.poller.unregister(listener)
        self._accepting = enabled

    def _accept(self, listener):
        for _ in range(self.accept_batch):
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
                    self._set_accepting(False)
                    self.accept_paused_until = time.monotonic() + 0.1
                    return
                raise
            sock.setblocking(False)
            # gunicorn writes the head and the body of an answer in two sends: without this, the
            # second waits for the client's delayed ACK (Nagle), up to 40 ms per answer.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if len(self.conns) >= self.max_connections:
                self._turn_away(sock)
                continue
            conn = Conn(sock, client, listener.getsockname())
            self.conns.add(conn)
            self._expect_head(conn)

    def _turn_away(self, sock: socket.socket):
        # Past the bound: the 503 goes out before anything is read (as tier-4 does, so a HEAD gets
        # its body too), then the connection closes.
        try:
            sock.send(BUSY_RESPONSE)
        except OSError:
            sock.close()
            return
        self._linger(sock)

    # -- reading heads --------------------------------------------------------------------

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
            self._close(conn)
            return
        if not data:
            self._close(conn)
            return
        conn.buf += data
        self._scan(conn)

    def _scan(self, conn: Conn) -> bool:
        """Looks at the bytes that came since the last look: hands a whole head to the pool, or
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
            self._refuse(conn, bodiless(431))
            return True
        if end != -1 or bare_lf:
            self._submit(conn)
            return True
        conn.scanned = len(buf)
        return False

    def _submit(self, conn: Conn):
        if conn.registered:
            self.poller.unregister(conn.sock)
            conn.registered = False
        conn.state = Conn.BUSY
        data = bytes(conn.buf)
        conn.buf = bytearray()
        conn.scanned = 0
        future = self.tpool.submit(self._serve, conn, data)
        future.add_done_callback(lambda f: self.method_queue.defer(self._finished, conn, f))

    def _finished(self, conn: Conn, future):
        # Back on the main thread: keep the connection for its next head, or close it.
        if conn.state is not Conn.BUSY:
            return  # cut at the drain limit meanwhile
        try:
            keep_alive, leftover = future.result()
        except Exception:  # noqa: BLE001 - _serve catches everything; this is a last resort
            keep_alive, leftover = False, b""
        if keep_alive and not self.idle_closed:
            try:
                conn.sock.setblocking(False)
            except OSError:
                self._close(conn)
                return
            conn.buf = bytearray(leftover)
            self._expect_head(conn)
        else:
            self._close(conn, linger=True)

    def _expire(self, now: float):
        while self.timeouts and self.timeouts[0][0] <= now:
            _, conn, token = self.timeouts.popleft()
            if conn.state is Conn.HEAD and conn.token == token:
                # Header timeout: a 408 if part of a head came, else just closed.
                if conn.buf:
                    self._refuse(conn, bodiless(408))
                else:
                    self._close(conn)
        while self.linger_order and self.linger_order[0][0] <= now:
            _, sock = self.linger_order.popleft()
            if sock in self.lingering:
                self._unlinger(sock)

    # -- closing ----------------------------------------------------------------------------

    def _refuse(self, conn: Conn, response: bytes):
        try:
            conn.sock.send(response)
        except OSError:
            pass
        self._close(conn, linger=True)

    def _close(self, conn: Conn, linger: bool = False):
        if conn.registered:
            self.poller.unregister(conn.sock)
            conn.registered = False
        conn.state = Conn.CLOSED
        self.conns.discard(conn)
        if linger:
            self._linger(conn.sock)
        else:
            conn.sock.close()

    def _linger(self, sock: socket.socket):
        """Closes `sock` without resetting its client: the write side now, the rest once the
        client has closed too or LINGER_S has passed, reading and dropping what it sends."""
        if len(self.lingering) >= MAX_LINGERING:
            sock.close()
            return
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.close()
            return
        deadline = time.monotonic() + LINGER_S
        self.lingering[sock] = deadline
        self.linger_order.append((deadline, sock))
        self.poller.register(sock, selectors.EVENT_READ, self._on_linger_readable)

    def _on_linger_readable(self, sock: socket.socket):
        try:
            if sock.recv(65536):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._unlinger(sock)

    def _unlinger(self, sock: socket.socket):
        del self.lingering[sock]
        try:
            self.poller.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    # -- shutting down ---------------------------------------------------------------------

    def _start_drain(self, now: float):
        self.drain_started = now
        DRAINING.set()
        # The port closes (the master closed its copy first); connections the kernel had queued
        # but nobody accepted are reset by it, as with Node's server.close().
        self._set_accepting(False)
        for listener in self.sockets:
            listener.close()
        self.accept_paused_until = 0.0
        busy = sum(1 for conn in self.conns if conn.state is Conn.BUSY)
        log(f"SIGTERM: finishing {busy} in-flight request(s)")

    def _close_idle(self):
        # The grace is over: every connection not being answered closes (kept alive, silent, or
        # halfway through a head); those being answered close after their answer.
        self.idle_closed = True
        for conn in list(self.conns):
            if conn.state is Conn.HEAD:
                self._close(conn)

    # -- in a pool thread ----------------------------------------------------------------------

    def _serve(self, conn: Conn, data: bytes):
        """Answers the one request whose head is `data` (more may follow it, pipelined). Returns
        (keep the connection, the bytes read past this request). Never raises."""
        sock = conn.sock
        req = None
        try:
            # Blocking with a timeout: bounds the writes of the answer, and any read of a body.
            sock.settimeout(HEADER_TIMEOUT_S)
            if is_raw_utf8_target(data):
                sock.sendall(BAD_TARGET_RESPONSE)
                return False, b""
            parser = RequestParser(self.cfg, sock, conn.client)
            parser.unreader.unread(data)  # the parser reads the head from here, not the socket
            req = next(parser)
            if has_body(req):
                # The body is never read: answer, then close (node/http/serve.js does the same).
                req.force_close()
            ANSWERING.req = req
            keep_alive = self.handle_request(req, conn)
            return bool(keep_alive), parser.unreader.take_buffered()
        except (StopIteration, NoMoreData):
            return False, b""
        except OSError as err:  # the client went away, or stopped reading for 10 s
            self.log.debug("connection ended while answering: %s", err)
            return False, b""
        except Exception as err:  # noqa: BLE001 - the parser's refusals, and bugs
            self.handle_error(req, sock, conn.client, err)
            return False, b""

    def handle_error(self, req, client, addr, exc):
        # Replaces gunicorn's HTML error page: the HTTP layer's refusals have no body the contract
        # fixes, and every other tier sends none. A failure that is not the client's is logged.
        status = 500
        if isinstance(exc, gunicorn_client_errors()):
            status = _status_of(exc)
            self.log.debug("refused a request: %s", exc)
        else:
            log(f"error answering a request: {exc!r}")
        try:
            client.sendall(bodiless(status))
        except OSError:
            pass


def gunicorn_client_errors() -> tuple:
    """The exceptions with which gunicorn's parser refuses a request (its Worker.handle_error's
    list): a 4xx or 501, never a 500."""
    from gunicorn.http import errors

    return tuple(
        getattr(errors, name)
        for name in (
            "InvalidRequestLine",
            "InvalidRequestMethod",
            "InvalidHTTPVersion",
            "InvalidHeader",
            "InvalidHeaderName",
            "LimitRequestLine",
            "LimitRequestHeaders",
            "InvalidProxyLine",
            "ForbiddenProxyRequest",
            "InvalidSchemeHeaders",
            "UnsupportedTransferCoding",
            "ConfigurationProblem",
            "ObsoleteFolding",
            "ExpectationFailed",
            "InvalidChunkSize",
            "ChunkMissingTerminator",
            "InvalidChunkExtension",
        )
        if hasattr(errors, name)
    )


#: A prefix for this process's log lines, set by rusty_qr.serve (`[py-tier-0 worker 123]`).
LOG_PREFIX = ["[rusty_qr]"]


#: The request a pool thread is answering (one at a time per thread).
ANSWERING = threading.local()


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


def log(line: str) -> None:
    """One line on stderr, with the process's prefix."""
    prefix = LOG_PREFIX[0].replace("{pid}", str(os.getpid()))
    print(f"{prefix} {line}", file=sys.stderr, flush=True)
