"""Test helpers shared by python/tests: the contract as data (contract/cases.json, which the Rust
and Node suites read too), its cases expanded into requests for the Python host and checked, a raw
HTTP/1.1 client, qr-cli's images, and the launcher (`python -m rusty_qr`) as a real process (the
PNG reader is pixels.py).

Run with `target/venv/bin/python -m pytest python/tests` from the repository root.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from rusty_qr.app import CACHE_CONTROL, CORS_PATHS, etag_of
from rusty_qr.query import raw_path_of

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = json.loads((ROOT / "contract" / "cases.json").read_text(encoding="utf-8"))
QR_CLI = Path(os.environ.get("RUSTY_QR_CLI") or ROOT / "target" / "release" / "qr-cli")
HOST = "python"


def parts(value) -> str:
    """A string written as parts: a string, or a list of strings and [string, count] repeats."""
    if isinstance(value, str):
        return value
    return "".join(p[0] * p[1] if isinstance(p, list) else p for p in value)


def header_pairs(value) -> list[tuple[str, str]]:
    """A case's headers as (name, value) pairs: an object, or a list (a name repeated) of
    [name, value] pairs and [[name, value], count] repeats."""
    if isinstance(value, dict):
        return list(value.items())
    pairs = []
    for item in value:
        if isinstance(item[0], list):
            pairs += [tuple(item[0])] * item[1]
        else:
            pairs.append(tuple(item))
    return pairs


def percent_encode(text: str) -> str:
    """Every byte but the unreserved ones as %XX (node/tests/support/contract.js's percentEncode)."""
    unreserved = re.compile(rb"[A-Za-z0-9\-._~]")
    return "".join(
        chr(b) if unreserved.fullmatch(bytes([b])) else f"%{b:02X}" for b in text.encode("utf-8")
    )


def answer(key: str) -> dict:
    reply = CONTRACT["answers"][key]
    headers = {k.lower(): v for k, v in reply.get("headers", {}).items()}
    return {"status": reply["status"], "body": reply["body"], "headers": headers}


def texts(name: str) -> list[str]:
    value = CONTRACT["texts"][name]
    if isinstance(value, dict):
        lines = (ROOT / value["file"]).read_text(encoding="utf-8").splitlines()
        return [line for line in lines if line]
    return [parts(v) for v in value]


@dataclass
class Case:
    name: str
    method: str
    target: str
    headers: list = field(default_factory=list)  # (name, value) pairs
    absent_headers: list = field(default_factory=list)
    head: bool = False
    png: str | None = None  # the text the PNG holds
    svg: str | None = None  # the text the SVG holds
    image: dict = field(default_factory=dict)  # what its pixels show (contract/README.md)
    same_as: str | None = None  # a query answered with the same bytes
    not_modified: bool = False  # a 304
    revalidate: bool = False  # the image's ETag sent back is a 304
    file: str | None = None  # a file of the repository, served as application/json
    answer: dict | None = None
    status: int | None = None
    query: str | None = None  # the raw query, when the case gives one

    @property
    def image_text(self) -> str | None:
        """The text the image holds, PNG or SVG."""
        return self.png if self.png is not None else self.svg

    @property
    def content_type(self) -> str:
        return "image/png" if self.png is not None else "image/svg+xml"


def cases(stack: str = "gunicorn") -> list[Case]:
    """Every case the host answers on `stack` (gunicorn or granian): the table's (those without
    `hosts`, or naming this host or the stack), then one PNG case per text of every text set."""
    out = []
    for c in CONTRACT["cases"]:
        if "hosts" in c and HOST not in c["hosts"] and stack not in c["hosts"]:
            continue
        query = None
        png = None
        if "text" in c:
            png = parts(c["text"])
            target = "/qrcode?text=" + percent_encode(png)
        elif "query" in c:
            query = parts(c["query"])
            target = "/qrcode?" + query
        else:
            target = parts(c["target"])
        if "png" in c:
            png = parts(c["png"])
        out.append(
            Case(
                name=c["name"],
                method=c.get("method", "GET"),
                target=target,
                headers=header_pairs(c.get("headers", {})),
                absent_headers=[h.lower() for h in c.get("absent_headers", [])],
                head=c.get("head", False),
                png=png,
                svg=parts(c["svg"]) if "svg" in c else None,
                image=c.get("image", {}),
                same_as=c.get("same_as"),
                not_modified=c.get("not_modified", False),
                revalidate=c.get("revalidate", False),
                file=c.get("file"),
                answer=answer(c["answer"]) if "answer" in c else None,
                status=c.get("status"),
                query=query,
            )
        )
    for set_name in CONTRACT["texts"]:
        for i, text in enumerate(texts(set_name)):
            out.append(
                Case(
                    name=f"{set_name} text {i + 1}",
                    method="GET",
                    target="/qrcode?text=" + percent_encode(text),
                    png=text,
                )
            )
    return out


# -- a raw HTTP/1.1 client ------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict  # lower-case names
    body: bytes


def request_bytes(method: str, target: str, headers: dict | None = None) -> bytes:
    """A request sent as written: the target's UTF-8 bytes exactly (contract/README.md)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


class Client:
    """One connection; reads answers one by one (keep-alive and pipelining)."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def read_reply(self, head: bool = False) -> Reply:
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise ConnectionError(f"closed before an answer: {self.buf[:200]!r}")
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            assert name.lower() not in headers, f"repeated header {name}"
            headers[name.lower()] = value.strip()
        length = 0 if head else int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            if not self._fill():
                raise ConnectionError("closed in the middle of a body")
        body, self.buf = self.buf[:length], self.buf[length:]
        return Reply(status, headers, body)

    def closed(self) -> bool:
        """Whether the server closed the connection (EOF or reset) with nothing more to read."""
        try:
            return not self.buf and self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


ETAG = re.compile(r'"[0-9a-f]{32}"')


def check(case: Case, reply: Reply, head: bool, check_image) -> None:
    """Asserts that `reply` answers `case` (node/tests/support/contract.js's check);
    `check_image(body, case, what)` judges an image's bytes."""
    what = f"{case.name} ({'HEAD' if head else case.method} {case.target[:60]})"
    if case.image_text is not None:
        assert ETAG.fullmatch(reply.headers.get("etag", "")), what
        assert reply.headers.get("cache-control") == CACHE_CONTROL, what
        if case.not_modified:
            assert (reply.status, reply.body) == (304, b""), what
            assert "content-type" not in reply.headers, what
        else:
            assert reply.status == 200, f"{what}: {reply.body[:100]!r}"
            assert reply.headers["content-type"] == case.content_type, what
            if not head:
                assert reply.headers["content-length"] == str(len(reply.body)), what
                assert reply.headers["etag"] == etag_of(reply.body), what
                check_image(reply.body, case, what)
    elif case.file is not None:
        body = (ROOT / case.file).read_bytes()
        assert reply.status == 200, what
        assert reply.headers["content-type"] == "application/json", what
        assert reply.headers["content-length"] == str(len(body)), what
        assert reply.body == (b"" if head else body), what
    elif case.answer is not None:
        expected = case.answer
        assert reply.status == expected["status"], what
        if expected["body"] is None:
            assert reply.body == b"", what
            assert "content-type" not in reply.headers, what
            assert reply.headers.get("content-length", "0") == "0", what
        else:
            assert reply.headers["content-type"] == "text/plain; charset=utf-8", what
            assert reply.headers["content-length"] == str(len(expected["body"].encode())), what
            assert reply.body == (b"" if head else expected["body"].encode()), what
        for name, value in expected["headers"].items():
            assert reply.headers.get(name) == value, f"{what}: {name}"
    else:
        assert reply.status == case.status, what
    if case.status is None and raw_path_of(case.target) in CORS_PATHS:
        assert reply.headers.get("access-control-allow-origin") == "*", what
    for name in case.absent_headers:
        assert name not in reply.headers, f"{what}: no {name}"


@cache
def qr_cli_png(text: str, engine: str | None = None, flags: tuple[str, ...] = ()) -> bytes:
    """What `qr-cli [--engine E] [FLAGS] -` prints for `text`: the core's bytes, which every Rust
    tier answers (the text on stdin, so nothing is read as a flag); an SVG with `--format svg`."""
    if not QR_CLI.is_file():
        pytest.fail(f"{QR_CLI} is missing: run `cargo xtask build` or set RUSTY_QR_CLI")
    args = [str(QR_CLI)] + (["--engine", engine] if engine else []) + list(flags) + ["-"]
    done = subprocess.run(args, input=text.encode(), capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


needs_qr_cli = pytest.mark.skipif(
    not QR_CLI.exists(), reason=f"{QR_CLI} is not built: `cargo build --release -p qr-cli`"
)


# -- the launcher as a real process ------------------------------------------------------------


def _launcher(args, env: dict | None) -> dict:
    """subprocess's arguments for `python -m rusty_qr --port 0 ARGS` (a later --port wins) with
    `env` added to this environment."""
    return {
        "args": [sys.executable, "-m", "rusty_qr", "--port", "0", *args],
        "env": dict(os.environ, PYTHONPATH=str(ROOT / "python"), **(env or {})),
        "cwd": ROOT,
    }


def run_launcher(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """The launcher run to its end (a usage error, a failed start), its output as text."""
    return subprocess.run(**_launcher(args, env), capture_output=True, text=True, timeout=60)


class Server:
    """`python -m rusty_qr ARGS` on an ephemeral port; `port` once its ready line came."""

    def __init__(self, *args: str, env: dict | None = None):
        self.proc = subprocess.Popen(
            **_launcher(args, env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.ready_line = self.proc.stdout.readline().decode()
        match = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)\n", self.ready_line)
        if not match:
            self.proc.kill()
            raise AssertionError(f"no ready line: {self.ready_line!r}; {self.stderr()}")
        self.port = int(match.group(1))

    def stderr(self) -> str:
        self.proc.wait(timeout=15)
        return self.proc.stderr.read().decode()

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc_info):
        self.stop()

    def stop(self):
        """SIGTERM unless it has exited (SIGKILL after 15 s), then closes the pipes."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def wait_until(predicate, timeout: float, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def slow_cli(tmp_path) -> str:
    """A qr-cli stand-in for py-tier-1: for the text `sleepN` it sleeps N seconds first; it then
    draws the PNG with the real qr-cli when built, else with py-tier-0."""
    draw = (
        f'printf %s "$text" | "{QR_CLI}" -'
        if QR_CLI.exists()
        else f'printf %s "$text" | PYTHONPATH="{ROOT / "python"}" "{sys.executable}" -c '
        '"import sys; from rusty_qr.tiers import py_tier_0; '
        'sys.stdout.buffer.write(py_tier_0.generate(sys.stdin.read()))"'
    )
    path = tmp_path / "slow-cli"
    path.write_text(
        "#!/bin/sh\n"
        "text=$(cat)\n"
        'case "$text" in sleep*) sleep "${text#sleep}" ;; esac\n'
        f"{draw}\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def big_answer_cli(tmp_path, megabytes: int = 8) -> str:
    """A qr-cli stand-in for py-tier-1 whose every answer is `megabytes` MB (a PNG signature, then
    zeros): more than a socket's buffers hold, so a client that does not read it blocks its write
    at once."""
    path = tmp_path / "big-answer-cli"
    path.write_text(
        "#!/bin/sh\n"
        "cat > /dev/null\n"
        "printf '\\211PNG\\r\\n\\032\\n'\n"
        f"head -c {megabytes * 1_000_000} /dev/zero\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)
