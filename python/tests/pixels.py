"""The PNG reader of python/tests: chunks checked, pixels as (r, g, b, a) for every colour type
the tiers write, and the checks of a QR code's pixels (modules of whole pixels, the quiet zone,
the contract's pixel-to-module mapping and colours).
"""

from __future__ import annotations

import struct
import zlib


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, each CRC checked."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    at, chunks = 8, []
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        data = png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert zlib.crc32(kind + data) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, data))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    return chunks


def png_rgba(png: bytes) -> list[list[tuple[int, int, int, int]]]:
    """A PNG (not interlaced; greyscale of 1 or 8 bits, RGB or RGBA of 8, or a palette of 1 to 8
    bits with its tRNS) as rows of (r, g, b, a) pixels."""
    chunks = png_chunks(png)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    channels = {0: 1, 2: 3, 3: 1, 6: 4}[colour]
    assert interlace == 0 and (depth == 8 or colour in (0, 3)), (depth, colour, interlace)
    palette: list[tuple[int, ...]] = []
    for kind, data in chunks:
        if kind == b"PLTE":
            palette = [(*data[i : i + 3], 0xFF) for i in range(0, len(data), 3)]
        elif kind == b"tRNS":
            assert colour == 3, "tRNS only with a palette here"
            for i, alpha in enumerate(data):
                palette[i] = (*palette[i][:3], alpha)
    raw = zlib.decompress(b"".join(d for k, d in chunks if k == b"IDAT"))
    stride = (width * channels * depth + 7) // 8
    bpp = max(channels * depth // 8, 1)
    rows, prev, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            else:
                assert kind == 0, f"filter {kind}"
        prev = line
        if depth < 8:
            per_byte = 8 // depth
            samples = [
                line[x // per_byte] >> (8 - depth * (x % per_byte + 1)) & ((1 << depth) - 1)
                for x in range(width)
            ]
        else:
            samples = list(line)
        if colour == 0:
            scale = 255 // ((1 << depth) - 1)
            rows.append([(v * scale,) * 3 + (0xFF,) for v in samples])
        elif colour == 3:
            rows.append([palette[v] for v in samples])
        else:
            pixels = [tuple(samples[x : x + channels]) for x in range(0, len(samples), channels)]
            rows.append([p if channels == 4 else (*p, 0xFF) for p in pixels])
    return rows


def png_pixels(png: bytes) -> list[list[bool]]:
    """A greyscale PNG as rows of dark pixels (True)."""
    return [[r < 128 for r, _, _, _ in row] for row in png_rgba(png)]


def check_pixels(rows, grid: list[list[bool]], dark: str, light: str) -> None:
    """Asserts that `rows` (of (r, g, b, a)) draw `grid` (its modules, quiet zone included, True
    dark) as docs/api.md says: pixel i of a row (and of a column) shows module floor(i * W / size)
    of the W across, in exactly the colours `dark` and `light` (`rrggbbaa`)."""
    size, across = len(rows), len(grid)
    assert all(len(row) == size for row in rows), "not square"
    colours = {True: tuple(bytes.fromhex(dark)), False: tuple(bytes.fromhex(light))}
    for y, row in enumerate(rows):
        module_row = grid[y * across // size]
        expected = [colours[module_row[x * across // size]] for x in range(size)]
        assert row == expected, f"pixel row {y}"


def png_modules(png: bytes, border: int = 4) -> list[list[bool]]:
    """The module grid of a QR code PNG drawn with whole pixels per module and a quiet zone of
    `border` modules: checks that every module is one flat square and that the quiet zone is white
    and the three finder patterns are where ISO/IEC 18004 puts them."""
    pixels = png_pixels(png)
    size = len(pixels)
    assert size == len(pixels[0]), "not square"
    # The module size: the run of dark pixels of the top-left finder's top edge is 7 modules.
    top = next(y for y, row in enumerate(pixels) if any(row))
    left = pixels[top].index(True)
    run = 0
    while pixels[top][left + run]:
        run += 1
    assert run % 7 == 0, f"finder edge of {run} px"
    box = run // 7
    assert top == left == border * box, "the quiet zone is not 4 modules"
    assert size % box == 0
    n = size // box
    grid = []
    for my in range(n):
        row = []
        for mx in range(n):
            value = pixels[my * box][mx * box]
            for y in range(my * box, my * box + box):
                assert all(v == value for v in pixels[y][mx * box : mx * box + box]), (mx, my)
            row.append(value)
        grid.append(row)
    modules = n - 2 * border
    assert (modules - 17) % 4 == 0 and 21 <= modules <= 177, f"{modules} modules is no version"
    for y in range(n):
        for x in range(n):
            if not (border <= x < n - border and border <= y < n - border):
                assert not grid[y][x], "dark module in the quiet zone"
    # A finder: a dark 3x3 centre, a light ring, a dark ring (Chebyshev distance 0-1, 2, 3).
    for ox, oy in ((0, 0), (modules - 7, 0), (0, modules - 7)):
        for y in range(7):
            for x in range(7):
                expected = max(abs(x - 3), abs(y - 3)) != 2
                assert grid[border + oy + y][border + ox + x] == expected, "finder pattern"
    return [row[border : n - border] for row in grid[border : n - border]]
