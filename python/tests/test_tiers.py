"""Each tier of this package through its generate(): py-tier-0's PNG read back pixel by pixel
(the venv has no QR decoder: the Rust conformance suite decodes every tier's PNGs over HTTP with
three), py-tier-1's bytes against qr-cli's own, and their failures."""

from __future__ import annotations

import os
import stat

import pytest
import qrcode
import qrcode.constants

from conftest import QR_CLI, needs_qr_cli, png_chunks, png_modules, qr_cli_png, texts
from rusty_qr import tiers
from rusty_qr.tiers import Busy, py_tier_0, py_tier_1

SAMPLES = texts("article")[:3] + ["a", "a\x00b", "é" * 256, "😀" * 128, "--help", "-"]


@pytest.mark.parametrize("text", SAMPLES, ids=range(len(SAMPLES)))
def test_py_tier_0_draws_the_qr_code_of_the_text(text):
    png = py_tier_0.generate(text, None)
    ihdr = png_chunks(png)[0][1]
    width = int.from_bytes(ihdr[:4], "big")
    grid = png_modules(png)  # checks the quiet zone, the finders and square modules
    n = len(grid) + 8
    assert width >= 200 and width // n == -(-200 // n), "not the smallest module size >= 200 px"
    # The grid is the matrix of an EC level L code of the text's UTF-8 bytes.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    assert grid == qr.get_matrix()
    assert qr.error_correction == qrcode.constants.ERROR_CORRECT_L


def test_py_tier_0_takes_no_engine():
    with pytest.raises(ValueError):
        py_tier_0.generate("a", "fast")


@needs_qr_cli
@pytest.mark.parametrize("engine", [None, "fast", "article"])
def test_py_tier_1_returns_qr_clis_bytes(engine):
    for text in SAMPLES:
        assert py_tier_1.generate(text, engine) == qr_cli_png(text, engine), text


@needs_qr_cli
def test_py_tier_1_reports_an_unknown_engine_with_the_cores_message():
    with pytest.raises(py_tier_1.CliError, match="unknown engine"):
        py_tier_1.generate("a", "nope")


def test_py_tier_1_names_a_missing_binary(tmp_path):
    with pytest.raises(py_tier_1.CliError, match="not found at .*RUSTY_QR_CLI"):
        py_tier_1.run(str(tmp_path / "nope"), 5, "a", None)


def _script(tmp_path, body: str) -> str:
    path = tmp_path / "fake-cli"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_py_tier_1_judges_by_exit_status_not_stderr(tmp_path):
    ok = _script(tmp_path, "cat >/dev/null; echo noise >&2; printf PNG\n")
    assert py_tier_1.run(ok, 5, "a", None) == b"PNG"
    failing = _script(tmp_path, "cat >/dev/null; printf partial; echo 'it broke' >&2; exit 1\n")
    with pytest.raises(py_tier_1.CliError, match="^it broke$"):
        py_tier_1.run(failing, 5, "a", None)
    silent = _script(tmp_path, "exit 3\n")
    with pytest.raises(py_tier_1.CliError, match="status 3"):
        py_tier_1.run(silent, 5, "a", None)


def test_py_tier_1_passes_the_text_on_stdin_only(tmp_path):
    echo = _script(tmp_path, 'printf "%s|" "$@"; cat\n')
    assert py_tier_1.run(echo, 5, "--help\x00x", "fast") == b"--engine|fast|-|--help\x00x"


def test_py_tier_1_kills_a_hung_child(tmp_path):
    pid_file = tmp_path / "pid"
    hung = _script(tmp_path, f"echo $$ > {pid_file}; exec sleep 30\n")
    with pytest.raises(py_tier_1.CliError, match="did not finish within 0.3 s"):
        py_tier_1.run(hung, 0.3, "a", None)
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped: nothing left running


def test_busy_spawn_failures_are_busy(monkeypatch):
    import errno
    import subprocess

    def no_processes(*args, **kwargs):
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", no_processes)
    with pytest.raises(Busy):
        py_tier_1.run(str(QR_CLI), 5, "a", None)


def test_the_tier_table_loads_this_packages_tiers():
    assert tiers.load("py-tier-0").generate is py_tier_0.generate
    assert tiers.load("py-tier-1").generate is py_tier_1.generate
    tiers.self_check(lambda text: py_tier_0.generate(text, None))
    with pytest.raises(TypeError):
        tiers.self_check(lambda text: b"not a png")
