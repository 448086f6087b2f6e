"""The Flask app of the HTTP contract (docs/api.md): GET|HEAD /qrcode?text=T&OPTIONS -> the PNG or
SVG, with a strong ETag, Cache-Control and CORS (If-None-Match -> 304); OPTIONS /qrcode -> the CORS
preflight; GET|HEAD /openapi.json -> contract/openapi.json; GET|HEAD /healthz -> `ok` (503
`draining` once a shutdown has begun); every other answer a one-line text/plain body.

Used by rusty_qr.host (each gunicorn worker builds one); tested through Flask's test client by
python/tests/test_app.py. The contract: docs/api.md and contract/cases.json.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Callable

from flask import Flask, Response, request

from .query import Options, parse_query, raw_path_of, raw_query_of
from .tiers import BadInput, Busy

NOT_FOUND = "not found"
NOT_ALLOWED = "method not allowed"
FAILED = "failed to generate qr code"
BUSY = "server is busy"
DRAINING = "draining"
HEALTHY = "ok"
BAD_TARGET = "request target must be printable ASCII (percent-encode the text)"
#: The methods /healthz and /openapi.json answer (HEAD is GET without the body), as a 405 names them.
ALLOW = "GET, HEAD"
#: The methods /qrcode answers: OPTIONS is the CORS preflight.
ALLOW_QRCODE = "GET, HEAD, OPTIONS"

TEXT_PLAIN = "text/plain; charset=utf-8"
CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
#: An image is a pure function of the request (and the server's version).
CACHE_CONTROL = "public, max-age=86400"
#: The headers of the preflight's 204 (contract/cases.json's `preflight` answer).
PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": ALLOW_QRCODE,
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Max-Age": "86400",
    "Allow": ALLOW_QRCODE,
}
#: The paths every answer of which carries `Access-Control-Allow-Origin: *`.
CORS_PATHS = frozenset({"/qrcode", "/openapi.json"})
#: The API's description, served byte for byte.
OPENAPI = Path(__file__).resolve().parents[2] / "contract" / "openapi.json"


def text_response(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    """A contract answer: `body` as one line of text/plain, no trailing newline (werkzeug sets the
    Content-Length from the bytes; a HEAD keeps it and drops the body)."""
    response = Response(body.encode("utf-8"), status=status, content_type=TEXT_PLAIN)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def bodiless_response(status: int, headers: dict[str, str]) -> Response:
    """An answer with no body and no Content-Type (a 204 or a 304)."""
    response = Response(status=status, headers=headers)
    del response.headers["Content-Type"]
    return response


def etag_of(body: bytes) -> str:
    """The strong ETag of an answer: the first 32 hex digits of its SHA-256, quoted (the same
    bytes have the same tag on every tier)."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


# One entity tag of an If-None-Match list, after any spaces and commas; `W/` outside the group.
_LISTED_TAG = re.compile(r'\s*(?:,\s*)*(?:W/)?("[^"]*")', re.ASCII)


def if_none_match(value: str | None, etag: str) -> bool:
    """Whether an If-None-Match value is `*` or lists `etag`, strong or weak (a `W/` tag matches
    by its quoted part, as RFC 9110 compares for If-None-Match); the list ends at what is not a
    quoted tag (qr-server reads it so)."""
    if value is None:
        return False
    if value.strip() == "*":
        return True
    at = 0
    while (listed := _LISTED_TAG.match(value, at)) is not None:
        if listed.group(1) == etag:
            return True
        at = listed.end()
    return False


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
    generate: Callable[[str, Options], bytes],
    draining: Callable[[], bool] = lambda: False,
    log: Callable[[str], None] = _log_to_stderr,
) -> Flask:
    """The app around `generate(text, options) -> bytes` (the tier, engine already bound), called
    only with valid text and options; it raising BadInput means 400 with its message, Busy 503, any
    other exception 500 with one `log` line. `draining()` says whether a shutdown has begun (then
    /healthz answers 503)."""
    openapi_json = OPENAPI.read_bytes()
    app = Flask("rusty_qr")
    # Flask's own answers must not leak: no automatic OPTIONS (it would answer 200 on every path,
    # with werkzeug's Allow), and no redirects of `//qrcode` to `/qrcode` (merge_slashes); a path is
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

    @app.after_request
    def cors(response: Response) -> Response:
        # Every answer of these paths, errors included, may be read by a page of any origin.
        if request.environ.get("PATH_INFO") in CORS_PATHS:
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    def qrcode() -> Response:
        parsed = parse_query(raw_query_of(_raw_target()))
        if parsed.error is not None:
            return text_response(400, parsed.error)
        try:
            image = bytes(generate(parsed.text, parsed.options))
        except BadInput as err:  # what only the symbol tells (a size too small): its message
            return text_response(400, str(err))
        except Busy:
            return text_response(503, BUSY)
        except Exception as err:  # the tier failed: one line, the contract's 500
            log(f"generating a qr code failed: {err}")
            return text_response(500, FAILED)
        # Not send_file: the tag is the contract's, no Last-Modified.
        etag = etag_of(image)
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        if if_none_match(request.headers.get("If-None-Match"), etag):
            return bodiless_response(304, headers)
        content_type = CONTENT_TYPES[parsed.options.format]
        return Response(image, status=200, content_type=content_type, headers=headers)

    def preflight() -> Response:
        return bodiless_response(204, PREFLIGHT)

    def openapi() -> Response:
        return Response(openapi_json, status=200, content_type="application/json")

    def healthz() -> Response:
        # For load balancers and Kubernetes' readiness probe: not ready once draining.
        return text_response(503, DRAINING) if draining() else text_response(200, HEALTHY)

    # GET: werkzeug adds HEAD to a GET rule, and a HEAD response keeps GET's headers.
    routes = (
        ("/qrcode", qrcode, "GET"),
        ("/qrcode", preflight, "OPTIONS"),
        ("/openapi.json", openapi, "GET"),
        ("/healthz", healthz, "GET"),
    )
    for path, view, method in routes:
        app.add_url_rule(path, view.__name__, view, methods=[method], provide_automatic_options=False)

    # Any other method on these paths (TRACE too): Allow names exactly the contract's methods,
    # not werkzeug's list of the rules' methods.
    @app.errorhandler(405)
    def not_allowed(_error) -> Response:
        allow = ALLOW_QRCODE if request.environ.get("PATH_INFO") == "/qrcode" else ALLOW
        return text_response(405, NOT_ALLOWED, {"Allow": allow})

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
