"""The Zalo channel's small parts: numbered choices, update parsing, the LRU, backoff, file tokens."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.zalo_files import BadToken, Expired, FileStore
from bot.channels.zalo_render import choice_hint, reply_text, texts
from bot.channels.zalo_updates import RecentIds, parse_update
from bot.pipeline.backoff import Backoff
from handlers.messages import Attachment, Choice, Reply
from texts.catalog import keys, t


def choices(n: int) -> list[Choice]:
    return [Choice(f"v{i}", f"Mục {i}") for i in range(1, n + 1)]


@pytest.mark.parametrize("n,hint", [(1, "Trả lời 1."), (2, "Trả lời 1 hoặc 2."), (3, "Trả lời 1, 2 hoặc 3."),
                                    (5, "Trả lời 1, 2, 3, 4 hoặc 5."), (7, "Trả lời một số từ 1 đến 7.")])
def test_choice_hint(n: int, hint: str) -> None:
    assert choice_hint(n) == hint
    text = reply_text(Reply("Chọn:", choices=choices(n)))
    assert text == "Chọn:\n\n" + "\n".join(f"{i}. Mục {i}" for i in range(1, n + 1)) + "\n" + hint


def test_catalog_is_nfc_and_complete() -> None:
    ours = {k for k in keys() if k.startswith("zalo.")}
    assert {"zalo.fallback.image", "zalo.fallback.sticker", "zalo.fallback.unsupported", "zalo.file.ready",
            "zalo.choices.item", "zalo.choices.hint_list"} <= ours
    for file in (Path(__file__).parents[3] / "texts/locales/vi").glob("*.toml"):
        source = file.read_text(encoding="utf-8")
        assert unicodedata.normalize("NFC", source) == source, file.name


def test_plain_text_without_choices_and_attachment_only() -> None:
    assert reply_text(Reply("  Xin chào  ")) == "Xin chào"
    assert texts(Reply("", attachment=Attachment("a.xlsx", b"x"))) == []


@given(st.lists(st.text(min_size=1, max_size=300), max_size=40))
def test_rendered_parts_fit_zalo(lines: list[str]) -> None:
    for part in texts(Reply("\n".join(lines), choices=choices(3))):
        assert 1 <= len(part.text) <= 2000


def message(**extra: object) -> dict:
    return {"from": {"id": "u1", "display_name": "Ted"}, "chat": {"id": "u1", "chat_type": "PRIVATE"},
            "message_id": "m1", "date": 1750316131602, **extra}


def test_parse_update_shapes() -> None:
    bare = {"event_name": "message.text.received", "message": message(text="Xin chào")}
    for body in (bare, {"ok": True, "result": bare}):
        update = parse_update(body)
        assert update is not None and (update.account_id, update.chat_id, update.text) == ("u1", "u1", "Xin chào")
        incoming = update.incoming()
        assert (incoming.channel, incoming.message_id, incoming.display_name) == ("zalo", "m1", "Ted")
    first_name = message(text="a")
    first_name["from"] = {"id": 123, "first_name": "An"}
    update = parse_update({"event_name": "message.text.received", "message": first_name})
    assert update is not None and update.account_id == "123" and update.display_name == "An"
    image = parse_update({"event_name": "message.image.received", "message": message(photo="https://p")})
    assert image is not None and image.fallback_key is None and image.photo_url == "https://p" and image.text is None
    bot = message(text="x")
    bot["from"]["is_bot"] = True
    for odd in (None, [], {"ok": True}, {"event_name": "message.text.received"},
                {"event_name": "user.joined", "message": message()},
                {"event_name": "message.text.received", "message": bot}):
        assert parse_update(odd) is None


def test_recent_ids_is_a_bounded_lru() -> None:
    recent = RecentIds(size=2)
    assert recent.add("a") and recent.add("b") and not recent.add("a")
    assert recent.add("c") and "b" not in recent and "a" in recent
    recent.forget("a")
    assert recent.add("a")


def test_backoff_grows_with_jitter_and_resets() -> None:
    low, high = Backoff(1.0, 8.0, rng=lambda: 0.0), Backoff(1.0, 8.0, rng=lambda: 1.0)
    assert [low.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [high.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert high.next(floor=20.0) == 8.0 and Backoff(1.0, 8.0).next(floor=3.0) >= 3.0
    high.reset()
    assert high.next() == 1.0


def test_file_tokens(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = FileStore(tmp_path, "key-1", "https://bot.example.vn/", ttl_seconds=60, clock=lambda: now[0])
    token = store.sign("0" * 32, 1_000_060)
    assert store.verify(token) == "0" * 32
    other = FileStore(tmp_path, "key-2", "https://bot.example.vn", clock=lambda: now[0])
    for bad in (token + "x", token.replace("1000060", "1000061"), "0" * 32, ""):
        with pytest.raises(BadToken):
            store.verify(bad)
    with pytest.raises(BadToken):
        other.verify(token)
    now[0] = 1_000_060
    with pytest.raises(Expired):
        store.verify(token)


async def test_files_are_stored_and_expired_ones_purged(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = FileStore(tmp_path / "files", "key", "https://bot.example.vn", "/files", ttl_seconds=60,
                      clock=lambda: now[0])
    stored = await store.save(Attachment("tiến độ.xlsx", b"abc"))
    assert stored.url.startswith("https://bot.example.vn/files/") and stored.filename == "tiến độ.xlsx"
    assert len(list((tmp_path / "files").iterdir())) == 2
    now[0] += 61
    await store.save(Attachment("b.csv", b"def"))
    assert len(list((tmp_path / "files").iterdir())) == 2  # the first one is gone
    assert t("zalo.file.ready", filename="a", url="u", expires="e")
