"""Conversation steps per second through the Telegram channel (long polling against the stand-in
Bot API server), against a bare python-telegram-bot echo bot on the same server in the same run.

    python -m bench.bench_telegram        (or: python -m bench telegram)

Each simulated village head binds with ``/start CODE``, reports an election (five typed answers,
two taps), and asks ``/trangthai``: 10 steps, each waited for before the next, all heads at once.
The echo bot answers the same updates with one message each. Telegram's pacing (30 msg/s, 1 msg/s
per chat) is switched off for this: it would cap both bots and measure nothing. Target: ≥ 0.6×.
The same steps fed straight into the dialog engine are timed too: no channel can beat that figure.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.app import build, start, stop
from bot.channels.telegram import Progress, TelegramChannel
from bot.config import Config
from bot.dbadmin import upgrade
from handlers.messages import Incoming
from models.clock import utcnow
from models.db import transaction
from models.people import create_invite
from models.units import add_unit
from tests.fakes.telegram_api import FakeTelegram

HEADS = int(os.environ.get("BENCH_TELEGRAM_HEADS", "80"))
TOKEN = "123456789:BENCH-token"
Step = tuple[str, str]  # ("say", text) | ("tap", value)


def script(code: str) -> list[Step]:
    return [("say", f"/start {code}"), ("say", "/baucu"), ("say", "15/12/2024"), ("say", "Nguyễn Văn An"),
            ("say", "250 240 200 180"), ("tap", "member"), ("tap", "no"), ("say", "Bỏ qua"), ("tap", "send"),
            ("say", "/trangthai")]


async def drive(fake: FakeTelegram, progress: Progress, user_id: int, steps: list[Step]) -> None:
    """One user: send a step, wait until the bot handled it, send the next."""
    for done, (kind, arg) in enumerate(steps, start=1):
        if kind == "say":
            fake.user_message(user_id, arg)
        else:
            question = next((m for m in reversed(fake.sent) if m["chat"]["id"] == user_id and arg in {
                b.get("callback_data") for row in m.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row}), None)
            fake.callback(user_id, arg, question["message_id"] if question else 1)
        await progress.wait(done, str(user_id))


async def measure(fake: FakeTelegram, progress: Progress, scripts: dict[int, list[Step]]) -> tuple[float, int]:
    t0 = time.perf_counter()
    await asyncio.gather(*(drive(fake, progress, uid, steps) for uid, steps in scripts.items()))
    steps = sum(len(s) for s in scripts.values())
    return steps / (time.perf_counter() - t0), steps


async def echo_bot(fake: FakeTelegram, concurrent: int) -> tuple[Application[Any, Any, Any, Any, Any, Any],
                                                                 Progress]:
    """The baseline: python-telegram-bot as its docs show it, echoing every message and tap."""
    progress = Progress()

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_user is not None
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            if update.message:
                text = update.message.text
            else:  # the CallbackQueryHandler's update
                assert update.callback_query is not None
                text = update.callback_query.data or ""
            await update.effective_chat.send_message(text or "?")
        finally:
            progress.done(str(update.effective_user.id))

    app = (Application.builder().token(TOKEN).base_url(fake.base_url).base_file_url(fake.base_file_url)
           .concurrent_updates(concurrent).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=5)
    return app, progress


async def run_echo(concurrent: int) -> float:
    async with FakeTelegram() as fake:
        app, progress = await echo_bot(fake, concurrent)
        try:
            scripts = {1000 + i: script(f"CODE{i}") for i in range(HEADS)}
            rate, _ = await measure(fake, progress, scripts)
        finally:
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
    return rate


def bot_config(db_url: str, fake: FakeTelegram) -> Config:
    return Config.model_validate({
        "database": {"url": db_url}, "scheduler": {"enabled": False}, "web": {"enabled": False},
        "telegram": {"token": TOKEN, "api_base_url": fake.base_url, "poll_timeout": 5, "menu_commands": False,
                     "rate_per_second": 1e6, "chat_per_second": 1e6, "chat_burst": 1000,
                     "concurrent_updates": int(os.environ.get("BENCH_TELEGRAM_CONCURRENT", "32"))},
    })


async def invites(build_sessions: Any, n: int) -> list[str]:
    now = utcnow()
    async with transaction(build_sessions) as s:
        province = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None)
        commune = await add_unit(s, period="post2025", code="C1", level="commune", name="Hà Tu", parent=province)
        villages = [await add_unit(s, period="post2025", code=f"V{i}", level="village", name=f"Thôn {i}",
                                   parent=commune, type="thôn") for i in range(n)]
        return [(await create_invite(s, v, "village_head", now - timedelta(minutes=1))).code
                for v in villages]


async def run_ours(db_url: str) -> float:
    async with FakeTelegram() as fake:
        app = await build(bot_config(db_url, fake))
        await upgrade(app.engine)
        codes = await invites(app.sessions, HEADS)
        channel = app.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        await start(app)
        try:
            scripts = {1000 + i: script(code) for i, code in enumerate(codes)}
            rate, _ = await measure(fake, channel.progress, scripts)
        finally:
            await stop(app)
    return rate


async def run_engine_only(db_url: str) -> float:
    """The same steps straight into the dialog engine (no Telegram at all): the ceiling for any channel."""
    async with FakeTelegram() as fake:
        app = await build(bot_config(db_url, fake))
        await upgrade(app.engine)
        codes = await invites(app.sessions, HEADS)

        async def user(uid: int, steps: list[Step]) -> None:
            for n, (kind, arg) in enumerate(steps):
                await app.dialog.handle(Incoming("telegram", str(uid), text=arg if kind == "say" else None,
                                                 choice=arg if kind == "tap" else None, message_id=f"{uid}-{n}"))

        t0 = time.perf_counter()
        await asyncio.gather(*(user(1000 + i, script(code)) for i, code in enumerate(codes)))
        rate = HEADS * len(script("X")) / (time.perf_counter() - t0)
        await stop(app)
    return rate


async def main() -> None:
    steps = HEADS * len(script("X"))
    print(f"{HEADS} Telegram users x {len(script('X'))} steps = {steps} updates, long polling, "
          f"stand-in Bot API on loopback, rate limits off")
    echo_seq = await run_echo(1)
    echo_conc = await run_echo(32)
    with tempfile.TemporaryDirectory() as tmp:
        ours = await run_ours(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
    with tempfile.TemporaryDirectory() as tmp:
        engine_only = await run_engine_only(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
    best = max(echo_seq, echo_conc)
    print(f"  echo bot (PTB defaults, one update at a time): {echo_seq:8.1f} steps/s")
    print(f"  echo bot (32 updates at once):                 {echo_conc:8.1f} steps/s")
    print(f"  our channel, SQLite (32 at once, 1 per chat):  {ours:8.1f} steps/s")
    print(f"  (dialog engine alone, SQLite, no Telegram:      {engine_only:8.1f} steps/s = "
          f"{engine_only / best:.2f}x the echo bot: the ceiling for any channel)")
    print(f"  ratio ours / best echo: {ours / best:.2f}x (target >= 0.60x)  "
          f"{'OK' if ours / best >= 0.6 else 'BELOW TARGET'}")


if __name__ == "__main__":
    asyncio.run(main())
