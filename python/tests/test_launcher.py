"""The launcher (`python -m rusty_qr`) as a real process: the ready line and every worker serving,
usage errors, a tier failing its self-check, a port in use, a second signal. The contract's cases
over HTTP are the conformance suite's (lab/qr-harness/tests/conformance/); the connection
handling is tested in test_connections.py.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from conftest import Client, Server, needs_qr_cli, request_bytes, run_launcher, slow_cli


def test_the_ready_line_names_the_real_port_and_every_worker_serves():
    with Server("--tier", "py-tier-0", "--mode", "cluster", "--workers", "2") as server:
        assert server.port != 0
        # Every one of the 2 workers answers (each connection lands on one of them).
        for _ in range(40):
            client = Client(server.port)
            client.send(request_bytes("GET", "/healthz"))
            assert client.read_reply().body == b"ok"
            client.close()
        workers = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True)
        pids = set(workers.stdout.split())
        assert len(pids) == 2, pids
    assert server.proc.returncode == 0
    assert server.proc.stdout is not None


def test_a_second_signal_exits_1_at_once(tmp_path):
    with Server("--tier", "py-tier-1", env={"RUSTY_QR_CLI": slow_cli(tmp_path)}) as server:
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
    done = run_launcher(args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_a_tier_failing_its_self_check_exits_1_with_one_line(tmp_path):
    done = run_launcher(
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
    done = run_launcher(["--tier", "py-tier-1", "--engine", "nope"])
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "unknown engine" in done.stderr, done.stderr


@pytest.mark.parametrize("mode", ["single", "cluster"])
def test_a_port_in_use_is_an_error_not_a_shared_port(mode):
    with Server("--tier", "py-tier-0", "--mode", "cluster", "--workers", "2") as first:
        done = run_launcher(["--tier", "py-tier-0", "--mode", mode, "--port", str(first.port)])
        assert done.returncode != 0 and done.stdout == "", done
