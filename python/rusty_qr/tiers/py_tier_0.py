"""py-tier-0: no Rust. The `qrcode` package makes the symbol with the request's options as its own
(`error_correction`, `border`), and draws it with its image factories: its pure-Python PNG writer
(pypng) and its one-path SVG (`SvgPathImage`). Without options: EC level L, a 4-module quiet zone,
the smallest whole module size that makes the image at least 200 px wide.

The package draws whole modules of `box_size` pixels, black on white (its pure PNG), or in colours
through Pillow (its PIL factory, which this pure-Python tier does not install). So the two
factories are subclassed here, through the package's `make_image(image_factory=..., **kwargs)`,
for an exact `size` and the colours (docs/api.md, "Options"); docs/python.md says what the SVG is.

Loaded by rusty_qr.host (`--tier py-tier-0`); tested by python/tests/test_tiers.py.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.compat.png import PngWriter
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

from ..query import DEFAULT_OPTIONS, Options, size_too_small
from . import BadInput

#: Without `size`, the image is at least this wide: the smallest whole number of pixels per module
#: that reaches it (the Rust tiers' rule; npm qrcode's `width: 200` in tier-0 scales by a fraction).
MIN_WIDTH = 200

ERROR_CORRECTION = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}

#: The SVG factory's own unit: a box_size of 10 is 1 "mm", so one module is one unit of the
#: viewBox and of the path.
SVG_BOX_SIZE = 10

BLACK, WHITE = "000000ff", "ffffffff"


def _rgba(colour: str) -> tuple[int, int, int, int]:
    """`rrggbbaa` as (r, g, b, a)."""
    red, green, blue, alpha = bytes.fromhex(colour)
    return red, green, blue, alpha


def _opacity(colour: str) -> str:
    """The alpha of `rrggbbaa` as an SVG opacity, 0 to 1, three decimals at most."""
    return f"{int(colour[6:], 16) / 255:.3f}".rstrip("0").rstrip(".") or "0"


class SizedPngImage(PyPNGImage):
    """The package's pure-Python PNG factory, `size` pixels wide and high, in two colours.

    Pixel i of a row (and of a column) shows module floor(i * W / size) of the W across, quiet zone
    included, so each module is whole pixels, floor(size / W) or one more. Black on white is the
    package's own 1-bit greyscale image, byte for byte; other colours a 1-bit two-entry palette,
    dark first, with the alphas in tRNS when a colour has one below ff.
    """

    def __init__(self, *args, size: int, dark: str, light: str, **kwargs):
        self.size, self.dark, self.light = size, dark, light
        super().__init__(*args, **kwargs)

    def new_image(self, **kwargs):
        if (self.dark, self.light) == (BLACK, WHITE):
            return PngWriter(self.size, self.size, greyscale=True, bitdepth=1)
        palette = [_rgba(self.dark), _rgba(self.light)]
        if all(alpha == 0xFF for *_, alpha in palette):
            palette = [colour[:3] for colour in palette]
        return PngWriter(self.size, self.size, palette=palette, bitdepth=1)

    def rows_iter(self):
        # 0 is dark (the palette's first entry; black in greyscale), 1 light.
        across = self.width + 2 * self.border
        quiet = [1] * self.border
        module_rows = (
            [[1] * across] * self.border
            + [quiet + [0 if dark else 1 for dark in row] + quiet for row in self.modules]
            + [[1] * across] * self.border
        )
        module_of_pixel = [i * across // self.size for i in range(self.size)]
        scaled: dict[int, list[int]] = {}  # each module row is scaled once
        for module in module_of_pixel:
            row = scaled.get(module)
            if row is None:
                row = scaled[module] = [module_rows[module][m] for m in module_of_pixel]
            yield row


class SizedSvgImage(SvgPathImage):
    """The package's one-path SVG factory, `size` pixels wide and high (its own width and height
    are in mm), `shape-rendering="crispEdges"`, the dark colour on the path and the light one on
    the package's background rect (none when fully transparent), alpha as `fill-opacity`."""

    def __init__(self, *args, size: int, dark: str, light: str, **kwargs):
        self.size, self.light = size, light
        self.QR_PATH_STYLE = {
            **SvgPathImage.QR_PATH_STYLE,
            "fill": f"#{dark[:6]}",
            "fill-opacity": _opacity(dark),
        }
        self.background = f"#{light[:6]}" if _opacity(light) != "0" else None
        super().__init__(*args, **kwargs)

    def _svg(self, *args, **kwargs):
        svg = super()._svg(*args, **kwargs)
        svg.set("width", str(self.size))
        svg.set("height", str(self.size))
        svg.set("shape-rendering", "crispEdges")
        if self.background is not None and _opacity(self.light) != "1":
            svg.find("rect").set("fill-opacity", _opacity(self.light))
        return svg


def generate(text: str, engine: str | None = None, options: Options = DEFAULT_OPTIONS) -> bytes:
    """`text -> PNG or SVG bytes` with the qrcode package, which picks its own segments (numeric,
    alphanumeric, bytes) as npm qrcode does for tier-0: byte segments hold the UTF-8 bytes, the
    others stand for the same ASCII characters, so the code decodes to exactly the text's bytes.
    It has no Kanji mode. A `size` below the symbol's modules plus twice the margin is BadInput.
    py-tier-0 has one engine: the launcher refuses --engine for it."""
    if engine is not None:
        raise ValueError("py-tier-0 is pure Python: it takes no engine")
    qr = qrcode.QRCode(
        error_correction=ERROR_CORRECTION[options.ec_level],
        border=options.margin,
        box_size=SVG_BOX_SIZE,
    )
    qr.add_data(text)
    qr.make(fit=True)
    across = qr.modules_count + 2 * options.margin
    if options.size is None:
        size = across * -(-MIN_WIDTH // across)
    elif options.size < across:
        raise BadInput(size_too_small(across))
    else:
        size = options.size
    factory = SizedSvgImage if options.format == "svg" else SizedPngImage
    image = qr.make_image(image_factory=factory, size=size, dark=options.dark, light=options.light)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
