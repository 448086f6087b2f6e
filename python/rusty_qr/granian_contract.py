"""The contract's HTTP rules that granian does not keep itself, as a WSGI middleware around the app
on granian (rusty_qr.granian_host): a request target that is not printable ASCII gets the
contract's 400 line, a request with a body and every answer begun once draining are answered with
`Connection: close`, and the requests in flight are counted so that a draining worker knows when it
may exit. gunicorn's worker does all of these itself (rusty_qr.connections).

Tested over a socket by python/tests/test_granian.py; what granian does instead for the rules no
middleware can keep is in docs/python.md, "On granian".
"""

from __future__ import annotations

import threading

from .app import BAD_TARGET, CORS_PATHS, TEXT_PLAIN


def printable_ascii(value: str) -> bool:
    """Whether every character is printable ASCII (0x21 to 0x7e): granian gives the query as it
    came (one character per byte) and the path percent-decoded."""
    return all("!" <= c <= "~" for c in value)


def has_body(environ: dict) -> bool:
    """Whether the request came with a body (granian has already read it)."""
    length = environ.get("CONTENT_LENGTH", "")
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or (length not in ("", "0"))


class InFlight:
    """How many requests the app is answering, and a way to wait until there are none."""

    def __init__(self):
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self):
        with self._idle:
            self._count += 1

    def __exit__(self, *_exc_info):
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no request is in flight, False if some still are after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


class GranianContract:
    """WSGI middleware: the contract's HTTP-layer rules granian leaves to the app (module doc).
    `draining()` says whether the worker got SIGTERM; `in_flight` counts the requests."""

    def __init__(self, wsgi_app, draining, in_flight: InFlight):
        self.wsgi_app = wsgi_app
        self.draining = draining
        self.in_flight = in_flight

    def __call__(self, environ, start_response):
        with self.in_flight:
            closing = has_body(environ) or self.draining()

            def start_closing(status, headers, exc_info=None):
                if closing:
                    headers = [h for h in headers if h[0].lower() != "connection"]
                    headers.append(("Connection", "close"))
                return start_response(status, headers, exc_info)

            target = environ.get("PATH_INFO", "") + environ.get("QUERY_STRING", "")
            if not printable_ascii(target):
                body = BAD_TARGET.encode()
                headers = [("Content-Type", TEXT_PLAIN), ("Content-Length", str(len(body)))]
                if environ.get("PATH_INFO") in CORS_PATHS:
                    headers.append(("Access-Control-Allow-Origin", "*"))
                start_closing("400 Bad Request", headers)
                return [body]
            # The body is made here, so that the count covers the whole answer.
            answer = self.wsgi_app(environ, start_closing)
            try:
                return [b"".join(answer)]
            finally:
                if hasattr(answer, "close"):
                    answer.close()
