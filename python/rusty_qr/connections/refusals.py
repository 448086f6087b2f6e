"""The HTTP layer's own answers, which never reach the app: a bodiless refusal (400, 408, 417,
431, 500, 501), the 503 `server is busy` of the connection bound, the contract's line for a target
with raw UTF-8; and which of them a request gets that gunicorn's parser refused (instead of
gunicorn's HTML page). Every one of them closes its connection.
"""

from __future__ import annotations

from collections.abc import Callable

from gunicorn.http import errors
from gunicorn.http.errors import (
    ExpectationFailed,
    LimitRequestHeaders,
    LimitRequestLine,
    UnsupportedTransferCoding,
)

from ..app import BAD_TARGET, BUSY, CORS_PATHS, TEXT_PLAIN
from ..query import raw_path_of
from ..logs import log

_CLOSE = b"Connection: close\r\n"
_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}

#: The exceptions with which gunicorn's parser refuses a request (its Worker.handle_error's
#: list): a 4xx or 501, never a 500.
CLIENT_ERRORS = tuple(
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


def bodiless(status: int) -> bytes:
    """The HTTP layer's own refusal: a status, no body, and the connection closes."""
    return b"HTTP/1.1 %d %s\r\nContent-Length: 0\r\n%s\r\n" % (
        status,
        _REASONS[status].encode(),
        _CLOSE,
    )


def _text(status: int, body: str, cors: bool = False) -> bytes:
    """A contract answer written by the HTTP layer: one line of text/plain, then the close;
    `cors`: with `Access-Control-Allow-Origin: *`, as every answer on the app's CORS paths."""
    data = body.encode()
    return b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s%s\r\n%s" % (
        status,
        _REASONS[status].encode(),
        TEXT_PLAIN.encode(),
        len(data),
        b"Access-Control-Allow-Origin: *\r\n" if cors else b"",
        _CLOSE,
        data,
    )


#: A connection past the bound, before anything is read.
BUSY_RESPONSE = _text(503, BUSY)


def bad_target_response(head: bytes) -> bytes | None:
    """The answer to a request whose target is printable ASCII but for some raw UTF-8: the
    contract's line (tier-4's answer), with `Access-Control-Allow-Origin: *` on the app's CORS
    paths as every answer there; None for any other head. A control byte, DEL or bytes that are
    not UTF-8 get the bodiless 400 of the HTTP layer, as in every tier."""
    if head.startswith(b"\r\n"):
        head = head[2:]
    line_end = head.find(b"\r\n")
    line = head if line_end == -1 else head[:line_end]
    first = line.find(b" ")
    second = line.find(b" ", first + 1)
    if first == -1 or second == -1:
        return None
    target = line[first + 1 : second]
    if not any(b >= 0x80 for b in target) or any(b <= 0x20 or b == 0x7F for b in target):
        return None
    try:
        target.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return _text(400, BAD_TARGET, cors=raw_path_of(target.decode("latin-1")) in CORS_PATHS)


def _status_of(exc: Exception) -> int:
    """The status of a request gunicorn's parser refused (its own mapping, without bodies)."""
    if isinstance(exc, (LimitRequestLine, LimitRequestHeaders)):
        return 431
    if isinstance(exc, UnsupportedTransferCoding):
        return 501
    if isinstance(exc, ExpectationFailed):
        return 417
    return 400


def send_refusal(sock, exc: Exception, debug: Callable[..., None]) -> None:
    """Answers a request that failed with `exc`: the parser's refusals with their bodiless status
    (`debug` logs them), anything else with a bodiless 500 and one log line."""
    status = 500
    if isinstance(exc, CLIENT_ERRORS):
        status = _status_of(exc)
        debug("refused a request: %s", exc)
    else:
        log(f"error answering a request: {exc!r}")
    try:
        sock.sendall(bodiless(status))
    except OSError:
        pass
