"""Answering one request in a pool thread, its whole head already in memory
(rusty_qr.connections.heads): gunicorn's parser reads the head from there, gthread's
handle_request runs the app, and the answer is kept in memory (Outgoing) for the main thread to
write as the client reads it, so that a client that does not read its answers holds no thread.
A target with raw UTF-8 gets the contract's line; a request with a body is answered with
`Connection: close` and its body never read (gthread drains up to 64 KiB of it for up to 5 s, in
a pool thread).
"""

from __future__ import annotations

from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import RequestParser

from .drain import ANSWERING
from .heads import HEADER_TIMEOUT_S, Conn
from .refusals import bad_target_response


class Outgoing:
    """The connection's socket as the answer's writers see it in a pool thread: what they write
    is kept, in order, for the main thread to send; reading (a body gthread drains) goes to the
    socket itself."""

    def __init__(self, sock):
        self._sock = sock
        self.data = bytearray()

    def sendall(self, data) -> None:
        self.data += data

    def send(self, data) -> int:
        self.data += data
        return len(data)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _Answering:
    """The connection as gthread's handle_request uses it, with its writes kept."""

    __slots__ = ("sock", "client", "server")

    def __init__(self, conn: Conn, out: Outgoing):
        self.sock, self.client, self.server = out, conn.client, conn.server


def answer(worker, conn: Conn, data: bytes) -> tuple[bool, bytes, bytes]:
    """Answers, for `worker` (a ContractWorker), the one request whose head is `data` (more may
    follow it, pipelined). Returns (keep the connection, the bytes read past this request, the
    answer to write). Never raises."""
    sock = conn.sock
    out = Outgoing(sock)
    req = None
    try:
        # Blocking with a timeout: bounds any read of a body.
        sock.settimeout(HEADER_TIMEOUT_S)
        refusal = bad_target_response(data)
        if refusal is not None:
            return False, b"", refusal
        parser = RequestParser(worker.cfg, sock, conn.client)
        parser.unreader.unread(data)  # the parser reads the head from here, not the socket
        req = next(parser)
        if has_body(req) or asks_to_close(req):
            # A body is never read: answer, then close (node/http/serve-tier.js does the same).
            req.force_close()
        ANSWERING.req = req
        keep_alive = worker.handle_request(req, _Answering(conn, out))
        return bool(keep_alive), parser.unreader.take_buffered(), bytes(out.data)
    except (StopIteration, NoMoreData):
        return False, b"", bytes(out.data)
    except OSError as err:  # the client went away
        worker.log.debug("connection ended while answering: %s", err)
        return False, b"", b""
    except Exception as err:  # noqa: BLE001 - the parser's refusals, and bugs
        worker.handle_error(req, out, conn.client, err)
        return False, b"", bytes(out.data)


def has_body(req) -> bool:
    """Whether the request says a body follows (Content-Length above 0, or Transfer-Encoding)."""
    for name, value in req.headers:
        if name == "TRANSFER-ENCODING" or (name == "CONTENT-LENGTH" and value.strip() != "0"):
            return True
    return False


def asks_to_close(req) -> bool:
    """Whether any Connection header lists `close` among its tokens (`keep-alive, close`, or a
    second Connection header): gunicorn reads the first header's whole value only."""
    return any(
        token.strip().lower() == "close"
        for name, value in req.headers
        if name == "CONNECTION"
        for token in value.split(",")
    )
