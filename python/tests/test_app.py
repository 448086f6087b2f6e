"""The Flask app through Flask's test client: every case of contract/cases.json that reaches an
app (the HTTP layer's own answers, raw bytes in the target and the head limit, are
rusty_qr.connections', tested over a socket in test_connections.py; the conformance suite,
lab/qr-harness/tests/conformance/, runs every case over HTTP), with py-tier-3 (the core) behind a
recorder of what the tier is handed; then caching, CORS, the 400, 500 and 503 paths of a tier and
/healthz while draining."""

from __future__ import annotations

import pytest

from conftest import Reply, cases, check
from rusty_qr.app import create_app, etag_of, if_none_match
from rusty_qr.query import DEFAULT_OPTIONS, Options
from rusty_qr.tiers import BadInput, Busy, py_tier_3

#: How each key of a case's `image` shows in the options the tier is handed.
IMAGE_FIELDS = {"size": "size", "margin": "margin", "ecLevel": "ec_level", "dark": "dark", "light": "light"}


def _recording(calls):
    """py-tier-3 with the core's default engine, each call's (text, options) kept in `calls`."""

    def generate(text, options):
        calls.append((text, options))
        return py_tier_3.generate(text, None, options)

    return generate


def _app_cases():
    out = []
    for c in cases():
        target_bytes = c.target.encode("utf-8")
        if any(b >= 0x80 or b < 0x20 or b == 0x7F for b in target_bytes):
            continue  # the HTTP layer's (badTarget, bodiless 400)
        if c.status == 431:
            continue  # the HTTP layer's head limit
        out.append(c)
    return out


def _size_too_small(case) -> bool:
    """Whether the case's answer is the 400 that only the symbol tells (the tier's, not the
    parser's)."""
    return case.answer is not None and (case.answer["body"] or "").startswith('"size" must be at least')


@pytest.fixture
def client_and_calls():
    calls = []
    app = create_app(_recording(calls))
    return app.test_client(), calls


def _ask(client, target, method="GET", headers=()):
    # RAW_URI is what gunicorn gives the app: the target exactly as received.
    reply = client.open(
        target if target.startswith("/") else "/",
        method=method,
        headers=list(headers),
        environ_overrides={"RAW_URI": target},
    )
    return Reply(reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.data)


@pytest.mark.parametrize("case", _app_cases(), ids=lambda c: c.name)
def test_every_case_that_reaches_the_app(case, client_and_calls):
    client, calls = client_and_calls

    def check_image(body, case, what):
        text, options = calls[-1]
        assert text == case.image_text, what
        assert body == py_tier_3.generate(text, None, options), what
        assert options.format == ("png" if case.png is not None else "svg"), what
        for key, value in case.image.items():
            assert getattr(options, IMAGE_FIELDS[key]) == value, f"{what}: {key}"

    reply = _ask(client, case.target, case.method, case.headers)
    check(case, reply, False, check_image)
    if case.head:
        check(case, _ask(client, case.target, "HEAD", case.headers), True, check_image)
    if case.image_text is None and not _size_too_small(case):
        assert calls == [], "the tier was called for a request the contract refuses"
    if case.same_as is not None:
        assert _ask(client, "/qrcode?" + case.same_as).body == reply.body
    if case.not_modified:
        assert reply.headers["etag"] == _ask(client, case.target).headers["etag"]
    if case.revalidate:
        etag = reply.headers["etag"]
        for value in (etag, f"W/{etag}", f'"0123", {etag}, W/"x"', f'W/"x",W/{etag}'):
            for method in ("GET", "HEAD"):
                again = _ask(client, case.target, method, [("If-None-Match", value)])
                assert (again.status, again.body) == (304, b""), (value, method)
                for name in ("etag", "cache-control", "access-control-allow-origin"):
                    assert again.headers[name] == reply.headers[name], (value, method, name)
                assert "content-type" not in again.headers and "content-length" not in again.headers


def test_the_tier_is_handed_the_normalised_options(client_and_calls):
    client, calls = client_and_calls
    _ask(client, "/qrcode?text=a&format=SvG&size=0300&margin=02&ecLevel=h&dark=%230B3D91&light=FFFFFF00")
    assert calls == [("a", Options("svg", 300, 2, "H", "0b3d91ff", "ffffff00"))]
    _ask(client, "/qrcode?text=a&eclevel=H")
    assert calls[-1][1] is DEFAULT_OPTIONS


def test_caching_headers_and_if_none_match(client_and_calls):
    client, _ = client_and_calls
    reply = _ask(client, "/qrcode?text=a&format=svg")
    assert reply.headers["content-type"] == "image/svg+xml"
    etag = etag_of(reply.body)
    assert reply.headers["etag"] == etag and len(etag) == 34
    assert reply.headers["cache-control"] == "public, max-age=86400"
    assert reply.headers["access-control-allow-origin"] == "*"
    # Another image's tag, a tag that only contains this one, and a malformed list: 200.
    for other in ('"' + "0" * 32 + '"', f'"x{etag[1:]}', etag[1:-1], etag.upper(), "W/", ","):
        assert _ask(client, "/qrcode?text=a&format=svg", headers=[("If-None-Match", other)]).status == 200, other
    # The tag of the PNG of the same text is another tag.
    png_etag = _ask(client, "/qrcode?text=a").headers["etag"]
    assert png_etag != etag
    assert _ask(client, "/qrcode?text=a&format=svg", headers=[("If-None-Match", png_etag)]).status == 200


def test_if_none_match_reads_a_list_as_qr_server_does():
    tag = '"0123456789abcdef0123456789abcdef"'
    for yes in ("*", " * ", tag, f"W/{tag}", f'"x", W/"y" ,{tag}', f",, {tag} ,", f'"x",{tag}'):
        assert if_none_match(yes, tag), yes
    for no in (None, "", '"x"', tag[1:-1], tag.upper(), f"w/{tag}", tag[:-1], "*x", f"x, {tag}"):
        assert not if_none_match(no, tag), no


def test_flask_adds_nothing_of_its_own(client_and_calls):
    client, _ = client_and_calls
    for method in ("TRACE", "POST", "PUT", "DELETE", "PATCH", "FOO"):
        reply = client.open("/qrcode?text=a", method=method)
        assert (reply.status_code, reply.headers["Allow"], reply.data) == (
            405, "GET, HEAD, OPTIONS", b"method not allowed"), method
        reply = client.open("/healthz", method=method)
        assert (reply.status_code, reply.headers["Allow"]) == (405, "GET, HEAD"), method
    reply = client.options("/qrcode?text=a")
    assert reply.status_code == 204 and reply.data == b""
    assert sorted(reply.headers.keys()) == sorted([
        "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Allow"])
    reply = client.get("//qrcode?text=a")
    assert reply.status_code == 404 and "Location" not in reply.headers
    assert "Access-Control-Allow-Origin" not in reply.headers
    assert "Access-Control-Allow-Origin" not in client.get("/healthz").headers


def test_bad_input_from_the_tier_is_a_400_with_its_message():
    def too_small(text, options):
        raise BadInput('"size" must be at least 29 pixels for this text, ecLevel and margin')

    client = create_app(too_small, log=lambda line: None).test_client()
    for method in ("GET", "HEAD"):
        reply = client.open("/qrcode?text=hello&size=28", method=method)
        assert reply.status_code == 400
        assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert reply.headers["Access-Control-Allow-Origin"] == "*"
        assert "ETag" not in reply.headers and "Cache-Control" not in reply.headers
        if method == "GET":
            assert reply.data == b'"size" must be at least 29 pixels for this text, ecLevel and margin'


def test_a_failing_tier_is_a_500_with_one_log_line():
    lines = []

    def broken(text, options):
        raise RuntimeError("the core said no")

    client = create_app(broken, log=lines.append).test_client()
    reply = client.get("/qrcode?text=a")
    assert (reply.status_code, reply.data) == (500, b"failed to generate qr code")
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert lines == ["generating a qr code failed: the core said no"]


def test_a_busy_tier_is_a_503():
    def busy(text, options):
        raise Busy("no processes left")

    client = create_app(busy, log=lambda line: None).test_client()
    reply = client.get("/qrcode?text=a")
    assert (reply.status_code, reply.data) == (503, b"server is busy")


def test_healthz_says_draining_once_a_shutdown_has_begun():
    draining = [False]
    client = create_app(_recording([]), draining=lambda: draining[0]).test_client()
    assert (client.get("/healthz").status_code, client.get("/healthz").data) == (200, b"ok")
    draining[0] = True
    reply = client.get("/healthz?verbose=1")
    assert (reply.status_code, reply.data) == (503, b"draining")
    assert client.get("/qrcode?text=a").status_code == 200  # work in flight is still done
