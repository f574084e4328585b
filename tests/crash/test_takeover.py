"""Two real webhook workers on one PostgreSQL; the first acknowledges a head's updates and is killed
(SIGKILL) while its first reply is on its way: the second worker answers all of them within seconds
(not after a restart, nor after the 60-second lock of the reply the dead worker had claimed)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from models.delivery.tables import ProcessedMessage
from tests.conftest import Database
from tests.crash.harness import TOKEN_TG
from tests.crash.workers import TwoWorkers
from tests.fakes._base import ApiError
from tests.fakes.telegram_api import FakeTelegram
from tests.waiting import until
from texts.catalog import t

HEAD = 6001
SAYS = ["xin chào", "/trogiup", "/huy"]


async def test_what_a_killed_webhook_worker_acknowledged_is_answered_by_the_other(pg: Database, tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN_TG) as fake:
        held, dead = asyncio.Event(), asyncio.Event()
        send = fake.handlers["sendMessage"]

        async def hold_the_first(params: dict[str, Any]) -> Any:  # worker A's first reply never leaves
            if not held.is_set():
                held.set()
                await dead.wait()
                raise ApiError(502, "Bad Gateway")  # (A is gone: nobody reads this)
            return await send(params)

        fake.handlers["sendMessage"] = hold_the_first
        async with TwoWorkers(pg.url, tmp_path, "telegram", fake, leader_lease=6) as workers:
            async with aiohttp.ClientSession() as http:
                for text in SAYS:  # all to A, each answered 200: acknowledged
                    await workers.platform.send(HEAD, text, http)
            await until(held.is_set, "A's first reply on its way", 60.0)
            killed = await workers.kill_a()
            dead.set()
            await until(lambda: len(fake.sent_to(HEAD)) >= len(SAYS), "B answers everything A acknowledged", 60.0)
            took = time.monotonic() - killed
            assert took < 30.0, f"{took:.1f}s: the dead worker's rows waited for something else than its lease"
            # each answered once (the first one's row by B's drain, the others by B's intake: in any order)
            assert sorted(fake.sent_to(HEAD)) == sorted([t("bind.how_to"), t("help.unbound"),
                                                         t("common.nothing_to_cancel")])
            async with pg.sessions() as s:
                done = (await s.execute(select(ProcessedMessage.message_id))).scalars().all()
            assert len(done) == len(SAYS)
            assert workers.b_took_over()
