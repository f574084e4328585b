"""Photos at the engine: decoys with a photo's first bytes and a PNG bomb are refused with a clear
message and store nothing; a kept photo is the re-encoding; photos sent during a report that is then
cancelled (``/huy``), replaced by another report, or left to expire are not kept (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handlers.engine import Engine, expire_conversations
from handlers.messages import IncomingPhoto
from models.photos.tables import ReportPhoto
from tests import images
from tests.conftest import Database
from tests.handlers.chat import Province
from tests.handlers.test_election import bound_head
from texts.catalog import t


async def photo_count(db: Database) -> int:
    async with db.sessions() as s:
        return (await s.execute(select(func.count()).select_from(ReportPhoto))).scalar_one()


@pytest.mark.parametrize(("content", "answer"), [
    (b"\x89PNG\r\n\x1a\n<html><body>not a photo</body></html>", "photo.bad_type"),
    (b"\xff\xd8\xff\xe0 a text file behind a JPEG marker", "photo.bad_type"),
    (images.png_bomb(), "photo.too_many_pixels"),
], ids=["png-html", "jpeg-text", "png-bomb"])
async def test_decoys_and_bombs_are_refused_and_nothing_is_stored(db: Database, engine: Engine, province: Province,
                                                                  content: bytes, answer: str) -> None:
    chat = await bound_head(db, engine, province)
    await chat.send("/baucu")
    await chat.send("15/12")
    question = chat.text
    await chat.send(photo=IncomingPhoto(content=content))
    assert chat.text == t(answer, mb=10, mp=40)
    assert await photo_count(db) == 0
    await chat.send("Lê Thị Hoa")  # the report goes on where it was
    assert chat.text != question and t("election.ask.head_name") not in chat.text


async def test_photos_sent_before_huy_are_not_kept(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await chat.send("/baucu")
    await chat.send("15/12")
    await chat.send(photo=IncomingPhoto(content=images.jpeg()))
    await chat.send(photo=IncomingPhoto(content=images.png()))
    assert chat.text.startswith(t("photo.saved_election", village="Thôn 1"))
    assert await photo_count(db) == 2
    await chat.send("/huy")
    assert chat.text == t("common.cancelled")
    assert await photo_count(db) == 0


async def test_photos_of_a_report_replaced_or_expired_are_not_kept(db: Database, engine: Engine,
                                                                   province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await chat.send("/baucu")
    await chat.send(photo=IncomingPhoto(content=images.jpeg()))
    await chat.send("/baucu")  # the report started afresh: the first one is dropped, its photo too
    assert t("common.previous_dropped") in chat.text
    assert await photo_count(db) == 0
    await chat.send(photo=IncomingPhoto(content=images.jpeg(shade=9)))
    assert await photo_count(db) == 1
    other = await bound_head(db, engine, province, 1, account="u2")
    await other.send("/baucu")
    await other.send(photo=IncomingPhoto(content=images.jpeg(shade=5)))
    assert await photo_count(db) == 2
    await expire_conversations(db.sessions, other.now + timedelta(days=30))  # the scheduler's expiry
    assert await photo_count(db) == 0


async def test_a_kept_photo_is_the_reencoding(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await chat.send("/baucu")
    sent = images.jpeg(70, 50) + b"<script>alert(1)</script>"
    await chat.send(photo=IncomingPhoto(content=sent))
    for answer in ("15/12", "Lê Thị Hoa", "350 330 320 301", "1", "không", "bỏ qua", "1"):
        await chat.send(answer)
    assert "Đã lưu" in chat.text
    async with db.sessions() as s:
        stored = (await s.execute(select(ReportPhoto))).scalar_one()
    assert stored.content != sent and b"script" not in stored.content and stored.size == len(stored.content)
    assert images.decoded(stored.content) == ("JPEG", (70, 50)) and stored.mime_type == "image/jpeg"
