"""py-tier-0: no Rust. The `qrcode` package renders the QR code and its pure-Python PNG writer
(pypng) encodes it, with the article's options: EC level L, a 4-module quiet zone, about 200 px.

Loaded by rusty_qr.host (`--tier py-tier-0`); tested by python/tests/test_tiers.py.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.pure import PyPNGImage

#: The image is at least this wide: the smallest whole number of pixels per module that reaches it
#: (the Rust tiers' rule; npm qrcode's `width: 200` in tier-0 scales by a fraction instead).
MIN_WIDTH = 200
#: The quiet zone, in modules.
BORDER = 4


def generate(text: str, engine: str | None = None) -> bytes:
    """`text -> PNG bytes` with the qrcode package, which picks its own segments (numeric,
    alphanumeric, bytes) as npm qrcode does for tier-0: byte segments hold the UTF-8 bytes, the
    others stand for the same ASCII characters, so the code decodes to exactly the text's bytes.
    It has no Kanji mode. py-tier-0 has one engine: the launcher refuses --engine for it."""
    if engine is not None:
        raise ValueError("py-tier-0 is pure Python: it takes no engine")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=BORDER)
    qr.add_data(text)
    qr.make(fit=True)
    # The smallest whole module size that makes the image at least MIN_WIDTH px wide.
    modules = qr.modules_count + 2 * BORDER
    qr.box_size = -(-MIN_WIDTH // modules)
    image = qr.make_image(image_factory=PyPNGImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
