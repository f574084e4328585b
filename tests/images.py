"""Real little photos for the tests (Pillow draws them), and what a stored photo decodes to."""

from __future__ import annotations

import io
import zlib

from PIL import Image


def jpeg(width: int = 64, height: int = 48, shade: int = 0) -> bytes:
    """A real JPEG, a gradient (``shade`` makes another one)."""
    return _draw(width, height, shade, "JPEG")


def png(width: int = 64, height: int = 48, shade: int = 0) -> bytes:
    return _draw(width, height, shade, "PNG")


def _draw(width: int, height: int, shade: int, kind: str) -> bytes:
    image = Image.new("RGB", (width, height))
    image.putdata([((x * 4 + shade) % 256, (y * 4) % 256, (x + y + shade) % 256)
                   for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def decoded(content: bytes) -> tuple[str, tuple[int, int]]:
    """(format, size) of stored bytes, read back with Pillow (fully decoded)."""
    with Image.open(io.BytesIO(content)) as image:
        image.load()
        return str(image.format), image.size


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG declaring ``width`` × ``height`` grey pixels with its first rows of zeros: a few KB that a
    decoder would grow to ``width * height`` bytes (a bomb need not be complete to be allocated)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    body = zlib.compress(b"\x00" * ((width + 1) * min(height, 100)), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
