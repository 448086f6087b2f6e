# Type stub of the extension module (maturin ships it in the wheel, with py.typed).

def generate(
    text: str,
    engine: str | None = None,
    *,
    format: str | None = None,
    size: int | None = None,
    margin: int | None = None,
    ec_level: str | None = None,
    dark: str | None = None,
    light: str | None = None,
) -> bytes:
    """The image of the QR code of `text` (its UTF-8 bytes): a PNG, or an SVG with format="svg".

    `engine` is "article" or "fast"; None, here and for every option, means the default. The
    options are the HTTP contract's (docs/api.md): `format` "png" or "svg", `size` 21 to 1000
    pixels, `margin` 0 to 20 modules, `ec_level` "L", "M", "Q" or "H" (any case), `dark` and
    `light` "RRGGBB" or "RRGGBBAA" hex with or without "#". The GIL is released while the image is
    made. Raises ValueError for bad input (the text, an option, a size too small for the symbol,
    an unknown engine) with the contract's message, RuntimeError if generation fails.
    """
