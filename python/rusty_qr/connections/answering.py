"""Answering one request in a pool thread, its whole head already in memory
(rusty_qr.connections.heads): gunicorn's parser reads the head from there, gthread's
handle_request runs the app and writes the answer. A target with raw UTF-8 gets the contract's
line; a request with a body is answered with `Connection: close` and its body never read (gthread
drains up to 64 KiB of it for up to 5 s, in a pool thread).
"""

from __future__ import annotations

from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import RequestParser

from .drain import ANSWERING
from .heads import HEADER_TIMEOUT_S, Conn
from .refusals import BAD_TARGET_RESPONSE, is_raw_utf8_target


def answer(worker, conn: Conn, data: bytes) -> tuple[bool, bytes]:
    """Answers, for `worker` (a ContractWorker), the one request whose head is `data` (more may
    follow it, pipelined). Returns (keep the connection, the bytes read past this request). Never
    raises."""
    sock = conn.sock
    req = None
    try:
        # Blocking with a timeout: bounds the writes of the answer, and any read of a body.
        sock.settimeout(HEADER_TIMEOUT_S)
        if is_raw_utf8_target(data):
            sock.sendall(BAD_TARGET_RESPONSE)
            return False, b""
        parser = RequestParser(worker.cfg, sock, conn.client)
        parser.unreader.unread(data)  # the parser reads the head from here, not the socket
        req = next(parser)
        if has_body(req):
            # The body is never read: answer, then close (node/http/serve-tier.js does the same).
            req.force_close()
        ANSWERING.req = req
        keep_alive = worker.handle_request(req, conn)
        return bool(keep_alive), parser.unreader.take_buffered()
    except (StopIteration, NoMoreData):
        return False, b""
    except OSError as err:  # the client went away, or stopped reading for 10 s
        worker.log.debug("connection ended while answering: %s", err)
        return False, b""
    except Exception as err:  # noqa: BLE001 - the parser's refusals, and bugs
        worker.handle_error(req, sock, conn.client, err)
        return False, b""


def has_body(req) -> bool:
    """Whether the request says a body follows (Content-Length above 0, or Transfer-Encoding)."""
    for name, value in req.headers:
        if name == "TRANSFER-ENCODING" or (name == "CONTENT-LENGTH" and value.strip() != "0"):
            return True
    return False
