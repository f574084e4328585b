"""The crash benchmark's recovery run: a crash left ``n`` acknowledged updates in the inbox (one a
head, each ``/trogiup``); the real ``python -m bot run`` restarts on them. Measures the time from the
restart (the process launched) to the last answer received by the stand-in Telegram, beside the
floor Telegram's pace (``telegram.rate_per_second``, 30 messages a second) sets for as many answers."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.crash_table import Row
from bot.config import TelegramConfig
from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.delivery import inbox
from tests.crash.harness import TOKEN_TG, Plan, write_config
from tests.crash.process import BotProcess, free_port
from tests.fakes.telegram_api import FakeTelegram
from texts.catalog import t

FIRST_USER = 700_000


async def backlog(sessions: SessionFactory, url: str, n: int, database: str) -> Row:
    async with FakeTelegram(token=TOKEN_TG) as fake:
        answer = t("help.unbound")
        answered: dict[str, float] = {}  # head → when the answer reached the stand-in (the first copy)
        copies = 0
        send = fake.handlers["sendMessage"]

        async def stamped(params: dict[str, Any]) -> Any:
            result = await send(params)
            nonlocal copies
            if params.get("text") == answer:
                answered.setdefault(str(params.get("chat_id")), time.monotonic())
                copies += 1
            return result

        fake.handlers["sendMessage"] = stamped
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
                for _ in range(int((120.0 + n / 2) / 0.05)):  # (a bound, so a bench never hangs)
                    if len(answered) >= n:
                        break
                    await asyncio.sleep(0.05)
            finally:
                await bot.close()
        async with sessions() as s:
            left = await inbox.counts(s)
    pace = n / TelegramConfig().rate_per_second
    last = max(answered.values()) - started if answered else None
    received = len(answered)
    print(f"  backlog {n} on {database}: {received} of {n} updates answered: the last "
          f"{'—' if last is None else f'{last:.1f} s'} after the restart (process up in {up:.1f} s; Telegram's "
          f"{TelegramConfig().rate_per_second:.0f} msg/s pace alone: {pace:.1f} s); sent twice {copies - received}; "
          f"inbox {left}", flush=True)
    return Row(f"backlog of {n} acknowledged updates, restart", database, n, received, n, n - received, last,
               pace, twice=copies - received)  # (nothing was in doubt: no kill while it ran)
