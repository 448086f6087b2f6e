"""Each tier of this package through its generate(): py-tier-0's PNG and SVG read back pixel by
pixel and module by module, with every option (the venv has no QR decoder: the Rust conformance
suite decodes every tier's images over HTTP with three), py-tier-1's bytes against qr-cli's own,
and their failures."""

from __future__ import annotations

import io
import os
import re
import stat
import xml.etree.ElementTree as ET

import pytest
import qrcode
import qrcode.constants
from qrcode.image.pure import PyPNGImage

from conftest import QR_CLI, needs_qr_cli, qr_cli_png, texts
from pixels import check_pixels, png_chunks, png_modules, png_rgba
from rusty_qr import tiers
from rusty_qr.query import DEFAULT_OPTIONS, Options, size_too_small
from rusty_qr.tiers import BadInput, Busy, py_tier_0, py_tier_1

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


@pytest.mark.parametrize("text", SAMPLES, ids=range(len(SAMPLES)))
def test_py_tier_0_without_options_is_the_packages_own_png(text):
    # Before the options, the tier was exactly this: the package's pure PNG factory at the
    # smallest whole module size reaching 200 px. Its bytes must not change.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    qr.box_size = -(-200 // (qr.modules_count + 8))
    image = qr.make_image(image_factory=PyPNGImage)
    out = io.BytesIO()
    image.save(out)
    assert py_tier_0.generate(text, None) == out.getvalue()
    assert py_tier_0.generate(text, None, DEFAULT_OPTIONS) == out.getvalue()
    assert py_tier_0.generate(text, None, Options(margin=4, dark="000000ff")) == out.getvalue()


def _grid(text: str, ec_level: str, margin: int) -> list[list[bool]]:
    """The package's symbol of `text`, its quiet zone included (True: dark)."""
    qr = qrcode.QRCode(error_correction=py_tier_0.ERROR_CORRECTION[ec_level], border=margin)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.get_matrix()


OPTION_SETS = [
    Options(size=300),
    Options(size=97),  # modules of 3 and 4 px
    Options(size=29),  # one pixel per module
    Options(size=1000, margin=20, ec_level="H", dark="0b3d9180", light="ffeeddff"),
    Options(margin=0),
    Options(margin=10, size=410, ec_level="M"),
    Options(ec_level="Q", dark="0b3d91ff", light="ffeeddff"),
    Options(light="ffffff00"),
    Options(dark="00000080"),
    Options(dark="ffffffff", light="000000ff"),  # inverted: a palette, not greyscale
]


@pytest.mark.parametrize("options", OPTION_SETS, ids=repr)
def test_py_tier_0_draws_every_option_pixel_by_pixel(options):
    text = "hello"
    png = py_tier_0.generate(text, None, options)
    grid = _grid(text, options.ec_level, options.margin)
    rows = png_rgba(png)
    across = len(grid)
    expected_size = options.size or across * -(-200 // across)
    assert len(rows) == expected_size
    check_pixels(rows, grid, options.dark, options.light)
    ihdr = png_chunks(png)[0][1]
    depth, colour = ihdr[8], ihdr[9]
    black_on_white = (options.dark, options.light) == ("000000ff", "ffffffff")
    assert (depth, colour) == (1, 0 if black_on_white else 3)
    translucent = min(options.dark[6:], options.light[6:]) != "ff"
    assert any(kind == b"tRNS" for kind, _ in png_chunks(png)) == translucent


def test_py_tier_0_modules_are_whole_pixels_at_most_one_apart():
    # size=97 over 29 modules (21 and a margin of 4): 3 or 4 px each (docs/api.md: floor(size / W)
    # or one more). The timing pattern (row 6 of the symbol, between the finders' separators)
    # alternates every module, so its pixel runs are the modules' widths.
    rows = png_rgba(py_tier_0.generate("hello", None, Options(size=97)))

    def first_pixel(module: int) -> int:
        return next(i for i in range(97) if i * 29 // 97 == module)

    timing_row = rows[first_pixel(4 + 6)]
    start, end = first_pixel(4 + 8), first_pixel(29 - 4 - 8)
    runs, run = [], 1
    for left, right in zip(timing_row[start:end], timing_row[start + 1 : end]):
        if left == right:
            run += 1
        else:
            runs.append(run)
            run = 1
    runs.append(run)
    assert len(runs) == 21 - 16 and set(runs) == {3, 4}, runs


@pytest.mark.parametrize(
    ("text", "options", "minimum"),
    [
        ("hello", Options(size=28), 29),
        ("hello world", Options(size=32, ec_level="H"), 33),
        ("hello", Options(size=60, margin=20), 61),
        ("HELLO WORLD", Options(size=28), 29),  # alphanumeric: still version 1 at L
    ],
)
def test_py_tier_0_refuses_a_size_below_its_symbol(text, options, minimum):
    with pytest.raises(BadInput) as raised:
        py_tier_0.generate(text, None, options)
    assert str(raised.value) == size_too_small(minimum)
    # The minimum itself is one pixel per module.
    just_enough = Options(**{**options.changed(), "size": minimum})
    rows = png_rgba(py_tier_0.generate(text, None, just_enough))
    check_pixels(rows, _grid(text, options.ec_level, options.margin), "000000ff", "ffffffff")


def _svg_modules(svg: bytes) -> tuple[ET.Element, ET.Element, set[tuple[int, int]]]:
    """The root, the one path and the (x, y) of every unit square the path draws."""
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    paths = root.findall(f"{ns}path")
    assert len(paths) == 1
    squares = set()
    for x0, y0, x1, y1, x2 in re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H(\d+)z", paths[0].get("d")):
        x, y = int(x0), int(y0)
        assert (int(x1), int(y1), int(x2)) == (x + 1, y + 1, x), "not one module"
        squares.add((x, y))
    assert len(squares) == paths[0].get("d").count("M")
    return root, paths[0], squares


@pytest.mark.parametrize(
    "options",
    [
        Options(format="svg"),
        Options(format="svg", size=300, margin=2, ec_level="H", dark="0b3d91ff", light="ffffff00"),
        Options(format="svg", size=1000, margin=20, dark="0b3d9180", light="ffeedd40"),
    ],
    ids=repr,
)
def test_py_tier_0_svg_is_one_path_in_modules_sized_in_pixels(options):
    text = "rusty-qr"
    svg = py_tier_0.generate(text, None, options)
    assert svg.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<svg ")
    root, path, squares = _svg_modules(svg)
    grid = _grid(text, options.ec_level, options.margin)
    across = len(grid)
    size = options.size or across * -(-200 // across)
    assert (root.get("width"), root.get("height")) == (str(size), str(size))
    assert root.get("viewBox") == f"0 0 {across} {across}"
    assert root.get("shape-rendering") == "crispEdges"
    assert squares == {(x, y) for y, row in enumerate(grid) for x, dark in enumerate(row) if dark}
    assert path.get("fill") == "#" + options.dark[:6]
    assert float(path.get("fill-opacity")) == pytest.approx(int(options.dark[6:], 16) / 255, abs=5e-4)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    if options.light[6:] == "00":
        assert rects == []
    else:
        (rect,) = rects
        assert rect.get("fill") == "#" + options.light[:6]
        assert (rect.get("width"), rect.get("height")) == ("100%", "100%")
        opacity = int(options.light[6:], 16) / 255
        assert float(rect.get("fill-opacity", "1")) == pytest.approx(opacity, abs=5e-4)


def test_py_tier_0_takes_no_engine():
    with pytest.raises(ValueError):
        py_tier_0.generate("a", "fast")


@needs_qr_cli
@pytest.mark.parametrize("engine", [None, "fast", "article"])
def test_py_tier_1_returns_qr_clis_bytes(engine):
    for text in SAMPLES:
        assert py_tier_1.generate(text, engine) == qr_cli_png(text, engine), text


#: Option sets with the flags qr-cli takes for them, written out by hand.
CLI_OPTIONS = [
    (Options(format="svg"), ("--format", "svg")),
    (Options(size=300, margin=2, ec_level="H"), ("--size", "300", "--margin", "2", "--ec-level", "H")),
    (Options(dark="0b3d91ff", light="ffffff00"), ("--dark", "0b3d91ff", "--light", "ffffff00")),
    (Options("svg", 1000, 20, "Q", "0b3d9180", "ffeeddff"),
     ("--format", "svg", "--size", "1000", "--margin", "20", "--ec-level", "Q", "--dark", "0b3d9180",
      "--light", "ffeeddff")),
]


def test_py_tier_1_passes_the_options_not_at_their_default_as_flags():
    for options, expected in CLI_OPTIONS:
        assert tuple(py_tier_1.flags(options)) == expected
    assert py_tier_1.flags(DEFAULT_OPTIONS) == []
    assert py_tier_1.flags(Options(margin=4, format="png")) == []


@needs_qr_cli
@pytest.mark.parametrize("engine", [None, "article"])
@pytest.mark.parametrize(("options", "cli_flags"), CLI_OPTIONS, ids=range(len(CLI_OPTIONS)))
def test_py_tier_1_returns_qr_clis_image_for_every_option(engine, options, cli_flags):
    image = py_tier_1.generate("rusty-qr", engine, options)
    assert image == qr_cli_png("rusty-qr", engine, cli_flags)
    assert image.startswith(b"<" if options.format == "svg" else b"\x89PNG")


@needs_qr_cli
def test_py_tier_1_a_size_too_small_is_bad_input_with_the_contracts_message():
    with pytest.raises(BadInput) as raised:
        py_tier_1.generate("hello world", "fast", Options(size=32, ec_level="H"))
    assert str(raised.value) == size_too_small(33)


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
    bad_input = _script(tmp_path, "cat >/dev/null; printf partial; echo 'a rule' >&2; exit 1\n")
    with pytest.raises(BadInput, match="^a rule$"):
        py_tier_1.run(bad_input, 5, "a", None)
    failing = _script(tmp_path, "cat >/dev/null; printf partial; echo 'it broke' >&2; exit 3\n")
    with pytest.raises(py_tier_1.CliError, match="^it broke$"):
        py_tier_1.run(failing, 5, "a", None)
    silent = _script(tmp_path, "exit 1\n")
    with pytest.raises(py_tier_1.CliError, match="status 1"):
        py_tier_1.run(silent, 5, "a", None)


def test_py_tier_1_passes_the_text_on_stdin_only(tmp_path):
    echo = _script(tmp_path, 'printf "%s|" "$@"; cat\n')
    assert py_tier_1.run(echo, 5, "--help\x00x", "fast") == b"--engine|fast|-|--help\x00x"
    assert py_tier_1.run(echo, 5, "-", None, Options(ec_level="Q")) == b"--ec-level|Q|-|-"


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
    tiers.self_check(lambda text, options: py_tier_0.generate(text, None, options))
    with pytest.raises(TypeError, match="did not return PNG bytes"):
        tiers.self_check(lambda text, options: b"not a png")
    # A tier that ignores the options passes a self-check of defaults only: the check asks for
    # every option but the format, and a build without them fails it.
    with pytest.raises(TypeError, match="did not return PNG bytes"):
        tiers.self_check(lambda text, options: py_tier_0.generate(text, None, options) if
                         options == DEFAULT_OPTIONS else b"usage: unknown flag")
