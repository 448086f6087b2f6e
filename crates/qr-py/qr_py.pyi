# Type stub of the extension module (maturin ships it in the wheel, with py.typed).

def png(text: str, engine: str | None = None) -> bytes:
    """The PNG of the QR code of `text` (its UTF-8 bytes, EC level L).

    `engine` is "article" or "fast"; None means the core's default. The GIL is released while the
    image is made. Raises ValueError for bad input (empty, over 512 UTF-8 bytes, not encodable as
    UTF-8, an unknown engine) with the contract's message, RuntimeError if generation fails.
    """
