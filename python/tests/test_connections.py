"""The Python host's connection handling (rusty_qr.connections) over real sockets: pipelined heads
split across reads, bodiless answers (204, 304, HEAD) as the app made them, the raw-UTF-8 refusal
and CORS, clients that do not read their answers, draining at SIGTERM, the connection bound, the
header timeout, bodies, the 64 KiB head limit. lab/qr-harness/tests/faults/ puts the hosts under load with the same faults;
these are the Python host's own, quick and with its knobs (a bound of 2, a 1.5 s header timeout).
"""

from __future__ import annotations

import signal
import socket
import time

import pytest

from conftest import Client, Server, big_answer_cli, request_bytes, slow_cli, wait_until


def _health(port):
    client = Client(port)
    try:
        client.send(request_bytes("GET", "/healthz"))
        return client.read_reply().status
    except OSError:
        return None
    finally:
        client.close()


def test_pipelined_requests_are_answered_in_order():
    with Server("--tier", "py-tier-0") as server:
        client = Client(server.port)
        batch = b"".join(
            request_bytes("GET", target)
            for target in ("/qrcode?text=one", "/healthz", "/qrcode?text=", "/nope", "/qrcode?text=two")
        )
        # In pieces that split heads, so a head is read across reads.
        for at in range(0, len(batch), 37):
            client.send(batch[at : at + 37])
        statuses = [client.read_reply().status for _ in range(5)]
        assert statuses == [200, 200, 400, 404, 200]
        client.close()


#: The headers gunicorn adds to every answer.
SERVER_HEADERS = {"server", "date", "connection"}


def test_bodiless_answers_keep_the_apps_headers_and_the_connection():
    # gunicorn writes the head: no Content-Type, Content-Length or Transfer-Encoding of its own on
    # a 204 or a 304, HEAD with GET's headers, and the connection still frames what follows.
    with Server("--tier", "py-tier-0") as server:
        client = Client(server.port)
        client.send(request_bytes("GET", "/qrcode?text=cache+me&format=svg"))
        image = client.read_reply()
        etag = image.headers["etag"]
        client.send(
            request_bytes("OPTIONS", "/qrcode", {"Origin": "https://example.com"})
            + request_bytes("GET", "/qrcode?text=cache+me&format=svg", {"If-None-Match": etag})
            + request_bytes("HEAD", "/qrcode?text=cache+me&format=svg", {"If-None-Match": f"W/{etag}"})
            + request_bytes("HEAD", "/qrcode?text=cache+me&format=svg")
            + request_bytes("GET", "/healthz")
        )
        preflight = client.read_reply()
        assert (preflight.status, preflight.body) == (204, b"")
        assert set(preflight.headers) == SERVER_HEADERS | {
            "access-control-allow-origin", "access-control-allow-methods",
            "access-control-allow-headers", "access-control-max-age", "allow"}
        for _ in range(2):
            not_modified = client.read_reply(head=True)
            assert not_modified.status == 304
            assert not_modified.headers.keys() == SERVER_HEADERS | {
                "etag", "cache-control", "access-control-allow-origin"}
            assert not_modified.headers["etag"] == etag
        head = client.read_reply(head=True)
        assert (head.status, head.body) == (200, b"")
        assert {k: v for k, v in head.headers.items() if k != "date"} == {
            k: v for k, v in image.headers.items() if k != "date"}
        health = client.read_reply()
        assert (health.status, health.body) == (200, b"ok")
        client.close()


def test_raw_utf8_in_the_target_is_the_contracts_400_with_cors_on_qrcode():
    with Server("--tier", "py-tier-0") as server:
        for target, cors in (("/qrcode?text=é", True), ("/openapi.json?é", True), ("/qr€?text=a", False)):
            client = Client(server.port)
            client.send(request_bytes("GET", target))
            reply = client.read_reply()
            assert (reply.status, reply.body) == (
                400, b"request target must be printable ASCII (percent-encode the text)")
            assert ("access-control-allow-origin" in reply.headers) == cors, target
            assert client.closed()
            client.close()


def _slow_reader(port: int, requests: int) -> socket.socket:
    """A client that pipelines `requests` and never reads an answer (its receive buffer small)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request_bytes("GET", "/qrcode?text=unread") * requests)
    return sock


def test_clients_that_do_not_read_their_answers_hold_no_thread(tmp_path):
    # 8 MB answers: the server's write to a client that does not read blocks at once. Four such
    # clients, twice the pool's threads (one per CPU): a thread that waited on a write (gthread
    # writes with sendall) would leave none for anyone else.
    with Server("--tier", "py-tier-1", env={"RUSTY_QR_CLI": big_answer_cli(tmp_path)}) as server:
        readers = [_slow_reader(server.port, 3) for _ in range(4)]
        time.sleep(0.5)
        started = time.monotonic()
        client = Client(server.port)
        client.send(request_bytes("GET", "/healthz"))
        assert client.read_reply().status == 200
        assert time.monotonic() - started < 2, "a request waited for the slow readers"
        client.close()
        for reader in readers:
            reader.close()


def test_a_client_that_takes_nothing_of_its_answer_for_the_header_timeout_is_cut_off(tmp_path):
    env = {"RUSTY_QR_CLI": big_answer_cli(tmp_path), "RUSTY_QR_HEADER_TIMEOUT_S": "1.5"}
    with Server("--tier", "py-tier-1", env=env) as server:
        reader = _slow_reader(server.port, 1)
        time.sleep(3)
        # Its answer was cut: what the buffers hold, then the end (or a reset), never 8 MB.
        got = 0
        reader.settimeout(5)
        try:
            while chunk := reader.recv(1 << 20):
                got += len(chunk)
        except ConnectionResetError:
            pass
        assert got < 8_000_000
        reader.close()


def test_sigterm_drains_answers_what_was_sent_and_exits_0_with_a_silent_socket_open(tmp_path):
    with Server("--tier", "py-tier-1", env={"RUSTY_QR_CLI": slow_cli(tmp_path)}) as server:
        silent = socket.create_connection(("127.0.0.1", server.port))
        half = socket.create_connection(("127.0.0.1", server.port))
        half.sendall(b"GET /qrcode?text=half HTTP/1.1\r\n")
        kept = Client(server.port)
        kept.send(request_bytes("GET", "/healthz"))
        assert kept.read_reply().status == 200
        busy = Client(server.port)
        busy.send(request_bytes("GET", "/qrcode?text=sleep1"))  # takes 1 s
        time.sleep(0.3)
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        time.sleep(0.05)
        # Within the grace, a request on a kept-alive connection is answered, with close.
        kept.send(request_bytes("GET", "/healthz"))
        reply = kept.read_reply()
        assert (reply.status, reply.body, reply.headers["connection"]) == (503, b"draining", "close")
        assert kept.closed()
        # The request in flight is answered in full, with close.
        reply = busy.read_reply()
        assert reply.status == 200 and reply.body[:4] == b"\x89PNG"
        assert reply.headers["connection"] == "close"
        # The silent socket and the half head were closed after the grace, not at 10 s.
        silent.settimeout(5)
        half.settimeout(5)
        assert silent.recv(1) == b""
        assert half.recv(1) == b""
        assert server.wait(10) == 0
        assert time.monotonic() - started < 5
        # The port is closed.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2)


def test_past_the_bound_a_new_connection_gets_503_at_once_and_is_closed():
    with Server("--tier", "py-tier-0", "--max-connections", "2") as server:
        held = [Client(server.port) for _ in range(2)]
        for client in held:  # make sure both are accepted (served, so counted)
            client.send(request_bytes("GET", "/healthz"))
            assert client.read_reply().status == 200
        started = time.monotonic()
        extra = Client(server.port, timeout=5)
        extra.send(request_bytes("HEAD", "/qrcode?text=a"))
        reply = extra.read_reply()
        assert (reply.status, reply.body) == (503, b"server is busy")
        assert reply.headers["connection"] == "close"
        assert extra.closed()
        assert time.monotonic() - started < 2
        # Once one leaves, a new connection is served again.
        held.pop().close()
        assert wait_until(lambda: _health(server.port) == 200, 5)


def test_a_head_not_sent_within_the_header_timeout_is_cut_off_while_others_are_served():
    with Server("--tier", "py-tier-0", env={"RUSTY_QR_HEADER_TIMEOUT_S": "1.5"}) as server:
        slow = socket.create_connection(("127.0.0.1", server.port))
        silent = socket.create_connection(("127.0.0.1", server.port))
        started = time.monotonic()
        head = b"GET /qrcode?text=slow HTTP/1.1\r\nHost: x\r\n\r\n"
        slow.settimeout(0.2)
        answer = b""
        sent = 0
        while True:
            if sent < len(head):
                try:
                    slow.sendall(head[sent : sent + 1])
                    sent += 1
                except OSError:
                    pass
            assert _health(server.port) == 200  # others are served meanwhile
            try:
                data = slow.recv(512)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
        elapsed = time.monotonic() - started
        assert 1.3 < elapsed < 4, elapsed
        assert sent < len(head)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer
        silent.settimeout(3)
        assert silent.recv(1) == b""  # the silent one too


def test_a_request_with_a_trickling_body_is_answered_and_closed():
    with Server("--tier", "py-tier-0") as server:
        client = Client(server.port, timeout=5)
        client.send(request_bytes("GET", "/qrcode?text=a", {"Content-Length": "100000"}) + b"x")
        reply = client.read_reply()
        assert reply.status == 200 and reply.headers["connection"] == "close"
        started = time.monotonic()
        # The body keeps coming, a little at a time: the connection is closed anyway.
        closed = False
        while time.monotonic() - started < 4:
            try:
                client.send(b"x" * 10)
            except OSError:
                closed = True
                break
            time.sleep(0.1)
        assert closed or client.closed()
        assert time.monotonic() - started < 4


def test_a_head_over_64_kib_gets_431_and_60_kb_reaches_the_app():
    with Server("--tier", "py-tier-0") as server:
        reply = Client(server.port)
        reply.send(request_bytes("GET", "/qrcode?text=" + "a" * 60_000))
        assert reply.read_reply().body == b"text must be <= 512 bytes"
        big = Client(server.port)
        big.send(request_bytes("GET", "/qrcode?x=1", {"X-Big": "b" * 70_000}))
        assert big.read_reply().status == 431
