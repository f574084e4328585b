"""Received photos are decoded under a pixel limit and re-encoded: decoys with a photo's first bytes,
a PNG bomb and broken files are refused; what is kept is Pillow's own encoding, without metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from models.photos.image import MAX_PIXELS, BadPhoto, reencode
from tests import images


@pytest.mark.parametrize(("content", "reason"), [
    (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "bad_type"),  # a PNG signature, then HTML
    (b"\xff\xd8\xff\xe0 this is a text file, not a photo", "bad_type"),  # a JPEG marker, then text
    (b"GIF89a" + b"\x00" * 40, "bad_type"),
    (images.jpeg()[:300], "bad_type"),  # cut off half-way
    (images.png_bomb(), "too_many_pixels"),  # 30,000 x 30,000 declared in 3 KB
    (images.png_bomb(7_000, 6_000), "too_many_pixels"),  # 42 megapixels: over our own limit
], ids=["png-html", "jpeg-text", "gif", "truncated", "bomb", "over-limit"])
def test_what_is_no_photo_is_refused(content: bytes, reason: str) -> None:
    with pytest.raises(BadPhoto) as refused:
        reencode(content)
    assert refused.value.reason == reason


def test_a_photo_is_stored_as_reencoded_without_what_came_behind_or_inside_it() -> None:
    original = Image.open(io.BytesIO(images.jpeg(90, 40)))
    exif = original.getexif()
    exif[0x0112] = 6  # taken with the phone turned: to be rotated a quarter turn
    exif[0x010E] = "21.0N 107.1E"  # a description the phone wrote: where it was taken
    tagged = io.BytesIO()
    original.save(tagged, "JPEG", exif=exif.tobytes())
    smuggled = tagged.getvalue() + b"<html><script>alert(1)</script></html>"
    clean = reencode(smuggled)
    assert clean.mime_type == "image/jpeg" and (clean.width, clean.height) == (40, 90)  # upright
    assert b"script" not in clean.content and b"107.1E" not in clean.content and clean.content != smuggled
    with Image.open(io.BytesIO(clean.content)) as stored:
        assert stored.format == "JPEG" and stored.size == (40, 90) and not stored.getexif()
    png = reencode(images.png(30, 20))
    assert png.mime_type == "image/png" and images.decoded(png.content) == ("PNG", (30, 20))
    assert MAX_PIXELS >= 12_000_000  # a phone's photo of a record is always taken
    assert reencode(images.png_bomb(4_000, 3_000)).width == 4_000
