"""The Flask app of the HTTP contract: GET|HEAD /qrcode?text=T -> PNG, GET|HEAD /healthz -> `ok`
(503 `draining` once a shutdown has begun), every other answer a one-line text/plain body.

Used by rusty_qr.host (each gunicorn worker builds one); tested through Flask's test client by
python/tests/test_app.py. The contract: README.md's table and contract/cases.json.
"""

from __future__ import annotations

import sys
from typing import Callable

from flask import Flask, Response, request

from .query import parse_text_param, raw_path_of, raw_query_of
from .tiers import Busy

NOT_FOUND = "not found"
NOT_ALLOWED = "method not allowed"
FAILED = "failed to generate qr code"
BUSY = "server is busy"
DRAINING = "draining"
HEALTHY = "ok"
BAD_TARGET = "request target must be printable ASCII (percent-encode the text)"
#: The methods every route answers (HEAD is GET without the body), as a 405 names them.
ALLOW = "GET, HEAD"

TEXT_PLAIN = "text/plain; charset=utf-8"


def text_response(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    """A contract answer: `body` as one line of text/plain, no trailing newline (werkzeug sets the
    Content-Length from the bytes; a HEAD keeps it and drops the body)."""
    response = Response(body.encode("utf-8"), status=status, content_type=TEXT_PLAIN)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _log_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class RawPath:
    """WSGI middleware: routes on the raw path of the request target, as every other tier does.

    A WSGI server gives PATH_INFO percent-decoded (`/qr%63ode` arrives as `/qrcode`) and an
    absolute-form target (`http://host/qrcode`) as its path: this puts the raw, still-encoded path
    of RAW_URI (gunicorn's and werkzeug's name for the target as received) back into PATH_INFO, so
    `/qr%63ode` is 404 like in tier-4. Without RAW_URI (another server), PATH_INFO is left alone.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw is not None:
            environ["PATH_INFO"] = raw_path_of(raw)
            environ["SCRIPT_NAME"] = ""
        # No route upgrades a connection: werkzeug would refuse a WebSocket upgrade asked of a
        # plain route (400, its own words); every other host answers it as the GET it also is.
        environ.pop("HTTP_UPGRADE", None)
        return self.wsgi_app(environ, start_response)


def create_app(
    generate: Callable[[str], bytes],
    draining: Callable[[], bool] = lambda: False,
    log: Callable[[str], None] = _log_to_stderr,
) -> Flask:
    """The app around `generate(text) -> bytes` (the tier, engine already bound), called only
    with valid text; it raising Busy means 503, any other exception 500 with one `log` line.
    `draining()` says whether a shutdown has begun (then /healthz answers 503)."""
    app = Flask("rusty_qr")
    # Flask's own answers must not leak: no automatic OPTIONS (it would answer 200 with an Allow
    # that names OPTIONS), and no redirects of `//qrcode` to `/qrcode` (merge_slashes); a path is
    # either ours, exactly, or 404. strict_slashes only redirects rules that end in '/': none do.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.url_map.merge_slashes = False
    app.wsgi_app = RawPath(app.wsgi_app)

    @app.before_request
    def leading_slashes() -> Response | None:
        # werkzeug's matching drops a path's extra leading slashes (`//qrcode` would be served);
        # every other host answers it as the other path it is.
        if request.environ.get("PATH_INFO", "").startswith("//"):
            return text_response(404, NOT_FOUND)
        return None

    def qrcode() -> Response:
        parsed = parse_text_param(raw_query_of(_raw_target()))
        if parsed.error is not None:
            return text_response(400, parsed.error)
        try:
            png = generate(parsed.text)
        except Busy:
            return text_response(503, BUSY)
        except Exception as err:  # the tier failed: one line, the contract's 500
            log(f"generating a qr code failed: {err}")
            return text_response(500, FAILED)
        # Not send_file: no ETag, no Last-Modified, never a 304 (every tier answers the same).
        return Response(bytes(png), status=200, content_type="image/png")

    def healthz() -> Response:
        # For load balancers and Kubernetes' readiness probe: not ready once draining.
        return text_response(503, DRAINING) if draining() else text_response(200, HEALTHY)

    # GET only: werkzeug adds HEAD to a GET rule, and a HEAD response keeps GET's headers.
    app.add_url_rule("/qrcode", "qrcode", qrcode, methods=["GET"], provide_automatic_options=False)
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"], provide_automatic_options=False)

    # Any other method on these paths (OPTIONS and TRACE too): Allow names exactly GET and HEAD,
    # not werkzeug's list of the rule's methods.
    @app.errorhandler(405)
    def not_allowed(_error) -> Response:
        return text_response(405, NOT_ALLOWED, {"Allow": ALLOW})

    @app.errorhandler(404)
    def not_found(_error) -> Response:
        return text_response(404, NOT_FOUND)

    # Only reached by a bug: log it, answer the contract's 500 (never Flask's HTML page).
    @app.errorhandler(Exception)
    def unexpected(error) -> Response:
        code = getattr(error, "code", None)
        if isinstance(code, int) and 400 <= code < 500:
            return text_response(code, getattr(error, "description", "") or "")
        log(f"unexpected error on {request.method} {_raw_target()[:200]}: {error!r}")
        return text_response(500, FAILED)

    return app


def _raw_target() -> str:
    """The request target as received (latin-1, one character per byte), fragment included."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is not None:
        return raw
    query = environ.get("QUERY_STRING", "")
    return environ.get("PATH_INFO", "") + ("?" + query if query else "")
