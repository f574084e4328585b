"""The crash benchmark's recovery run: a crash left ``n`` acknowledged updates in the inbox (one a
head, each ``/trogiup``); the real ``python -m bot run`` restarts on them. Prints the time from the
restart (the process launched) to the last answer received by the stand-in Telegram, beside the
floor Telegram's 30 messages a second sets for as many answers."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.delivery import inbox
from tests.crash.harness import TOKEN_TG, Plan, write_config
from tests.crash.process import BotProcess, free_port
from tests.fakes.telegram_api import FakeTelegram
from texts.catalog import t

FIRST_USER = 700_000


async def backlog(sessions: SessionFactory, url: str, n: int) -> str:
    async with FakeTelegram(token=TOKEN_TG) as fake:
        items = []
        for i in range(n):
            update = fake.user_message(FIRST_USER + i, "/trogiup", push=False) | {"update_id": 10_000 + i}
            message = update["message"]
            items.append((f"m{message['chat']['id']}:{message['message_id']}", str(FIRST_USER + i), update))
        async with transaction(sessions) as s:  # acknowledged to Telegram, then the process died
            await inbox.record_many(s, "telegram", items, utcnow(), owner="crashed:1:dead")
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "backlog.toml"
            write_config(config, Plan(links=[("telegram", "webhook")]), {"telegram": fake.base_url}, free_port(),
                         Path(tmp))
            bot = BotProcess(config, url, Path(tmp) / "bot.log")
            started = time.monotonic()
            try:
                await bot.start()
                up = time.monotonic() - started
                answer = t("help.unbound")

                def answered() -> int:
                    return sum(1 for m in fake.sent if m.get("text") == answer)

                for _ in range(int((120.0 + n / 2) / 0.05)):  # (a bound, so a bench never hangs)
                    if answered() >= n:
                        break
                    await asyncio.sleep(0.05)
                took = time.monotonic() - started
            finally:
                await bot.close()
        async with sessions() as s:
            left = await inbox.counts(s)
    return (f"{answered()} of {n} updates answered: the last {took:.1f} s after the restart (process up in {up:.1f} s; "
            f"Telegram's 30 msg/s alone: {n / 30:.1f} s); inbox {left}")
