"""A received photo made safe to keep: decoded with Pillow, within a pixel limit, and encoded again.

The first bytes prove nothing (``\\x89PNG`` followed by HTML, a JPEG marker followed by text), and a
small file can declare a huge image (a "PNG bomb" of 30,000 × 30,000 pixels in a few hundred KB). So
a photo is kept only when Pillow reads it as a JPEG or PNG whose declared size is within
``MAX_PIXELS`` (checked from the header, before any pixel is decoded) and whose pixels all decode;
what is stored is Pillow's own re-encoding: orientation applied, no metadata (a phone's EXIF carries
the place it was taken), nothing the sender smuggled behind the image.

CPU-bound (up to a second for a large photo): callers run :func:`reencode` in a thread.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000  # a 40-megapixel photo (≈ 7,700 × 5,200); decoded that is about 120 MB
JPEG_QUALITY = 88
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})


class BadPhoto(ValueError):
    """Not a photo the bot keeps; ``reason`` is ``bad_type`` or ``too_many_pixels`` (catalog ``photo.*``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    """The re-encoded photo, as stored."""

    content: bytes
    mime_type: str
    width: int
    height: int


def reencode(content: bytes, max_pixels: int = MAX_PIXELS) -> CleanPhoto:
    """Decode ``content`` (JPEG or PNG, at most ``max_pixels``) and encode it again; raises BadPhoto."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content), formats=list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadPhoto("too_many_pixels", str(exc)) from None
        except Exception as exc:  # untrusted bytes: whatever the parser trips on, it is no photo
            raise BadPhoto("bad_type", f"not a JPEG or PNG image: {exc!r}") from None
        with image:
            kind = image.format or ""
            width, height = image.size
            if kind not in FORMATS:
                raise BadPhoto("bad_type", f"format {kind!r}")
            if width * height > max_pixels or width < 1 or height < 1:
                raise BadPhoto("too_many_pixels", f"{width} x {height} pixels (at most {max_pixels})")
            try:
                image.load()
                upright = ImageOps.exif_transpose(image)
                return _encode(upright, kind)
            except Exception as exc:  # truncated, corrupt, or text behind a marker
                raise BadPhoto("bad_type", f"the image does not decode: {exc!r}") from None


def _encode(image: Image.Image, kind: str) -> CleanPhoto:
    out = io.BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        (image if image.mode in PNG_MODES else image.convert("RGBA")).save(out, "PNG", optimize=True)
    return CleanPhoto(out.getvalue(), FORMATS[kind][0], image.width, image.height)
