"""The Flask app through Flask's test client: every case of contract/cases.json that reaches an
app (the HTTP layer's own answers, raw bytes in the target and the head limit, are
rusty_qr.connections', tested over a socket in test_connections.py; the conformance suite,
lab/qr-harness/tests/conformance/, runs every case over HTTP), with a fake tier; then the 500
and 503 paths and /healthz while draining."""

from __future__ import annotations

import pytest

from conftest import cases, check
from rusty_qr.app import create_app
from rusty_qr.tiers import Busy

FAKE_PNG = b"\x89PNG\r\n\x1a\n-fake-"


def _fake(calls):
    def generate(text):
        calls.append(text)
        return FAKE_PNG + text.encode()

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


@pytest.fixture
def client_and_calls():
    calls = []
    app = create_app(_fake(calls))
    return app.test_client(), calls


def _ask(client, case, method):
    # RAW_URI is what gunicorn gives the app: the target exactly as received.
    reply = client.open(
        case.target if case.target.startswith("/") else "/",
        method=method,
        headers=case.headers,
        environ_overrides={"RAW_URI": case.target},
    )
    from conftest import Reply

    return Reply(reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.data)


@pytest.mark.parametrize("case", _app_cases(), ids=lambda c: c.name)
def test_every_case_that_reaches_the_app(case, client_and_calls):
    client, calls = client_and_calls

    def check_png(body, text, what):
        assert body == FAKE_PNG + text.encode(), what
        assert calls[-1] == text, what

    check(case, _ask(client, case, case.method), False, check_png)
    if case.head:
        check(case, _ask(client, case, "HEAD"), True, check_png)
    if case.png is None:
        assert calls == [], "the tier was called for a request the contract refuses"


def test_flask_adds_nothing_of_its_own(client_and_calls):
    client, _ = client_and_calls
    for method in ("OPTIONS", "TRACE", "POST", "PUT", "DELETE", "PATCH", "FOO"):
        reply = client.open("/qrcode?text=a", method=method)
        assert (reply.status_code, reply.headers["Allow"], reply.data) == (
            405, "GET, HEAD", b"method not allowed"), method
    reply = client.get("//qrcode?text=a")
    assert reply.status_code == 404 and "Location" not in reply.headers
    reply = client.get("/qrcode?text=a", headers={"If-None-Match": "*"})
    assert reply.status_code == 200 and "ETag" not in reply.headers


def test_a_failing_tier_is_a_500_with_one_log_line():
    lines = []

    def broken(text):
        raise RuntimeError("the core said no")

    client = create_app(broken, log=lines.append).test_client()
    reply = client.get("/qrcode?text=a")
    assert (reply.status_code, reply.data) == (500, b"failed to generate qr code")
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert lines == ["generating a qr code failed: the core said no"]


def test_a_busy_tier_is_a_503():
    def busy(text):
        raise Busy("no processes left")

    client = create_app(busy, log=lambda line: None).test_client()
    reply = client.get("/qrcode?text=a")
    assert (reply.status_code, reply.data) == (503, b"server is busy")


def test_healthz_says_draining_once_a_shutdown_has_begun():
    draining = [False]
    client = create_app(_fake([]), draining=lambda: draining[0]).test_client()
    assert (client.get("/healthz").status_code, client.get("/healthz").data) == (200, b"ok")
    draining[0] = True
    reply = client.get("/healthz?verbose=1")
    assert (reply.status_code, reply.data) == (503, b"draining")
    assert client.get("/qrcode?text=a").status_code == 200  # work in flight is still done
