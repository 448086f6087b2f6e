"""The launcher (python -m rusty_qr.serve) as a real process over real sockets: the ready line,
every case of contract/cases.json in both modes, keep-alive and pipelining, draining at SIGTERM,
the connection bound, the header timeout, bodies, usage errors and a failing tier."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

from conftest import (
    ROOT,
    Client,
    Server,
    cases,
    check,
    needs_qr_cli,
    png_modules,
    qr_cli_png,
    request_bytes,
    wait_until,
)

ALL_CASES = cases()


def _serve_and_check(server: Server, check_png):
    """Every case on one kept-alive connection where the server keeps it, else a new one."""
    client = Client(server.port)
    try:
        for case in ALL_CASES:
            for head in ([False, True] if case.head else [False]):
                method = "HEAD" if head else case.method
                client.send(request_bytes(method, case.target, case.headers))
                reply = client.read_reply(head=head)
                check(case, reply, head, check_png)
                if reply.headers.get("connection") == "close":
                    assert client.closed(), case.name
                    client.close()
                    client = Client(server.port)
    finally:
        client.close()


def _check_png_structurally(body, text, what):
    png_modules(body)  # a QR code's grid: quiet zone, finders, whole-pixel modules


@pytest.mark.parametrize("mode", ["single", "cluster"])
def test_py_tier_0_answers_every_case_of_the_contract(mode):
    server = Server("--tier", "py-tier-0", "--mode", mode)
    try:
        _serve_and_check(server, _check_png_structurally)
    finally:
        server.stop()
    assert server.proc.returncode == 0


@needs_qr_cli
@pytest.mark.parametrize("mode, engine", [("single", None), ("cluster", "article")])
def test_py_tier_1_answers_every_case_with_qr_clis_bytes(mode, engine):
    args = ["--tier", "py-tier-1", "--mode", mode] + (["--engine", engine] if engine else [])
    server = Server(*args, env={"RUSTY_QR_CLI": str(ROOT / "target/release/qr-cli")})

    def same_as_qr_cli(body, text, what):
        assert body == qr_cli_png(text, engine), what

    try:
        _serve_and_check(server, same_as_qr_cli)
    finally:
        server.stop()
    assert server.proc.returncode == 0


def test_the_ready_line_names_the_real_port_and_every_worker_serves():
    server = Server("--tier", "py-tier-0", "--mode", "cluster", "--workers", "2")
    try:
        assert server.port != 0
        pids = set()
        # Every one of the 2 workers answers (each connection lands on one of them).
        for _ in range(40):
            client = Client(server.port)
            client.send(request_bytes("GET", "/healthz"))
            assert client.read_reply().body == b"ok"
            client.close()
        workers = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True)
        pids = set(workers.stdout.split())
        assert len(pids) == 2, pids
    finally:
        server.stop()
    assert server.proc.returncode == 0
    assert server.proc.stdout is not None


def test_pipelined_requests_are_answered_in_order():
    server = Server("--tier", "py-tier-0")
    try:
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
    finally:
        server.stop()


def test_sigterm_drains_answers_what_was_sent_and_exits_0_with_a_silent_socket_open(tmp_path):
    slow = _slow_cli(tmp_path)
    server = Server("--tier", "py-tier-1", env={"RUSTY_QR_CLI": slow})
    try:
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
    finally:
        server.stop()


def test_a_second_signal_exits_1_at_once(tmp_path):
    server = Server("--tier", "py-tier-1", env={"RUSTY_QR_CLI": _slow_cli(tmp_path)})
    try:
        busy = Client(server.port)
        busy.send(request_bytes("GET", "/qrcode?text=sleep30"))
        time.sleep(0.3)
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        assert server.proc.poll() is None, "exited with a request in flight"
        started = time.monotonic()
        server.signal(signal.SIGINT)
        assert server.wait(5) == 1
        assert time.monotonic() - started < 3
    finally:
        server.stop()


def test_past_the_bound_a_new_connection_gets_503_at_once_and_is_closed():
    server = Server("--tier", "py-tier-0", "--max-connections", "2")
    try:
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
    finally:
        server.stop()


def _health(port):
    client = Client(port)
    try:
        client.send(request_bytes("GET", "/healthz"))
        return client.read_reply().status
    except OSError:
        return None
    finally:
        client.close()


def test_a_head_not_sent_within_the_header_timeout_is_cut_off_while_others_are_served():
    server = Server("--tier", "py-tier-0", env={"RUSTY_QR_HEADER_TIMEOUT_S": "1.5"})
    try:
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
    finally:
        server.stop()


def test_a_request_with_a_trickling_body_is_answered_and_closed():
    server = Server("--tier", "py-tier-0")
    try:
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
    finally:
        server.stop()


def test_a_head_over_64_kib_gets_431_and_60_kb_reaches_the_app():
    server = Server("--tier", "py-tier-0")
    try:
        reply = Client(server.port)
        reply.send(request_bytes("GET", "/qrcode?text=" + "a" * 60_000))
        assert reply.read_reply().body == b"text must be <= 512 bytes"
        big = Client(server.port)
        big.send(request_bytes("GET", "/qrcode?x=1", {"X-Big": "b" * 70_000}))
        assert big.read_reply().status == 431
    finally:
        server.stop()


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--tier is required"),
        (["--tier", "tier-0"], "--tier must be one of"),
        (["--tier", "py-tier-0", "--engine", "fast"], "takes no --engine"),
        (["--tier", "py-tier-1", "--workers", "2"], "--workers needs --mode cluster"),
        (["--tier", "py-tier-1", "--port", "70000"], "--port must be an integer"),
        (["--tier", "py-tier-1", "--mode", "threads"], "--mode must be single or cluster"),
        (["--tier", "py-tier-1", "--max-connections", "0"], "--max-connections must be"),
        (["--tier", "py-tier-1", "--nope"], "unrecognized arguments"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, message):
    done = _run_launcher(args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_a_tier_failing_its_self_check_exits_1_with_one_line(tmp_path):
    done = _run_launcher(
        ["--tier", "py-tier-1", "--mode", "cluster", "--workers", "2"],
        env={"RUSTY_QR_CLI": str(tmp_path / "missing")},
    )
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines and all("failed its start-up self-check: qr-cli not found" in l for l in lines), lines
    assert len(lines) <= 2  # one per worker that got that far, nothing else


@needs_qr_cli
def test_an_unknown_engine_fails_the_self_check():
    done = _run_launcher(["--tier", "py-tier-1", "--engine", "nope"])
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "unknown engine" in done.stderr, done.stderr


def _run_launcher(args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "rusty_qr.serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "python"), **(env or {})),
    )


def _slow_cli(tmp_path) -> str:
    """A qr-cli stand-in: for the text `sleepN` it sleeps N seconds first; it then draws the
    PNG with the real qr-cli when built, else with py-tier-0."""
    real = ROOT / "target/release/qr-cli"
    draw = (
        f'printf %s "$text" | "{real}" -'
        if real.exists()
        else f'printf %s "$text" | PYTHONPATH="{ROOT / "python"}" "{sys.executable}" -c '
        '"import sys; from rusty_qr.tiers import py_tier_0; '
        'sys.stdout.buffer.write(py_tier_0.generate(sys.stdin.read()))"'
    )
    path = tmp_path / "slow-cli"
    path.write_text(
        "#!/bin/sh\n"
        'text=$(cat)\n'
        'case "$text" in sleep*) sleep "${text#sleep}" ;; esac\n'
        f"{draw}\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.mark.parametrize("mode", ["single", "cluster"])
def test_a_port_in_use_is_an_error_not_a_shared_port(mode):
    first = Server("--tier", "py-tier-0", "--mode", "cluster", "--workers", "2")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rusty_qr.serve", "--tier", "py-tier-0", "--mode", mode,
             "--port", str(first.port)],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT / "python")),
        )
        assert done.returncode != 0 and done.stdout == "", done
    finally:
        first.stop()
