"""The host on granian (`python -m rusty_qr --server granian`, rusty_qr.granian_host) as a real
process: the ready line and every worker serving, a tier failing its self-check, SIGTERM's drain
and exit status, a second signal; then every case of contract/cases.json over HTTP against
py-tier-3 on granian (the table's rows for granian: where its hyper answers itself, the rows say
so, and docs/python.md's "On granian" says why), images compared with the same app's in process.
The conformance suite (lab/qr-harness/tests/conformance/) runs the table against it too.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from conftest import Client, Reply, Server, cases, check, request_bytes, run_launcher, slow_cli
from rusty_qr.app import create_app
from rusty_qr.tiers import py_tier_3

GRANIAN = ("--server", "granian")

#: The contract's rows granian answers otherwise, and why (measured; docs/python.md).
def test_the_ready_line_names_the_real_port_and_every_worker_serves():
    with Server("--tier", "py-tier-0", "--mode", "cluster", "--workers", "2", *GRANIAN) as server:
        assert server.port != 0
        for _ in range(40):
            client = Client(server.port)
            client.send(request_bytes("GET", "/healthz"))
            assert client.read_reply().body == b"ok"
            client.close()
        workers = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True)
        assert len(workers.stdout.split()) == 2, workers.stdout
    assert server.proc.returncode == 0


def test_a_bad_server_is_one_line_and_exit_2():
    done = run_launcher(["--tier", "py-tier-0", "--server", "uvicorn"])
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and "--server must be gunicorn or granian" in done.stderr


def test_a_tier_failing_its_self_check_exits_1_with_one_line(tmp_path):
    done = run_launcher(
        ["--tier", "py-tier-1", "--mode", "cluster", "--workers", "2", *GRANIAN],
        env={"RUSTY_QR_CLI": str(tmp_path / "missing")},
    )
    assert (done.returncode, done.stdout) == (1, "")
    lines = done.stderr.splitlines()
    assert lines and all("failed its start-up self-check: qr-cli not found" in l for l in lines), lines
    assert len(lines) <= 2


def test_sigterm_drains_and_exits_0(tmp_path):
    with Server("--tier", "py-tier-1", *GRANIAN, env={"RUSTY_QR_CLI": slow_cli(tmp_path)}) as server:
        busy = Client(server.port)
        busy.send(request_bytes("GET", "/qrcode?text=sleep2"))
        idle = Client(server.port)
        idle.send(request_bytes("GET", "/healthz"))
        assert idle.read_reply().status == 200
        late = Client(server.port)
        late.send(request_bytes("GET", "/healthz"))
        late.read_reply()
        time.sleep(0.3)
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        time.sleep(0.05)
        # A request on an idle connection within 250 ms is answered, and /healthz says draining.
        late.send(request_bytes("GET", "/healthz"))
        assert (late.read_reply().status, late.closed()) == (503, True)
        # The request in flight is answered; the idle connection is closed.
        assert busy.read_reply().status == 200
        assert idle.closed()
        assert server.wait(10) == 0
        assert time.monotonic() - started < 10


def test_a_second_signal_exits_1_at_once(tmp_path):
    with Server("--tier", "py-tier-1", *GRANIAN, env={"RUSTY_QR_CLI": slow_cli(tmp_path)}) as server:
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


@pytest.fixture(scope="module")
def granian_py_tier_3():
    with Server("--tier", "py-tier-3", *GRANIAN) as server:
        yield server


def _ask(port: int, method: str, target: str, headers: list) -> Reply:
    client = Client(port)
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    client.send(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
    reply = client.read_reply(head=method == "HEAD")
    client.close()
    return reply


def _in_process(target: str) -> bytes:
    """The image the same app answers in process (Flask's test client, the raw target)."""
    app = create_app(lambda text, options: py_tier_3.generate(text, None, options))
    path = target if target.startswith("/") else "/"
    return app.test_client().get(path, environ_overrides={"RAW_URI": target}).data


@pytest.mark.parametrize("case", cases("granian"), ids=lambda c: c.name)
def test_every_case_over_http(case, granian_py_tier_3):
    def check_image(body, case, what):
        # An image is /qrcode's answer, whatever path granian decoded it from (/qr%63ode).
        query = case.target[case.target.index("?") :] if "?" in case.target else ""
        assert body == _in_process("/qrcode" + query), what

    port = granian_py_tier_3.port
    check(case, _ask(port, case.method, case.target, case.headers), False, check_image)
    if case.head:
        check(case, _ask(port, "HEAD", case.target, case.headers), True, check_image)
