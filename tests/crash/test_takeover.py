"""Two real webhook workers on one PostgreSQL; the first acknowledges a head's updates and is killed
(SIGKILL) while its first reply is on its way: the second worker answers all of them within seconds
(not after a restart, nor after the 60-second lock of the reply the dead worker had claimed)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from bot.channels.telegram_webhook import SECRET_HEADER
from models.delivery.tables import ProcessedMessage
from tests.conftest import Database
from tests.crash.harness import SECRET, TOKEN_TG, Plan, write_config
from tests.crash.process import BotProcess, free_port
from tests.fakes._base import ApiError
from tests.fakes.telegram_api import FakeTelegram
from tests.waiting import until
from texts.catalog import t

HEAD = 6001
SAYS = ["xin chào", "/trogiup", "/huy"]


def config_for(tmp: Path, name: str, fake: FakeTelegram) -> tuple[Path, int]:
    port = free_port()
    path = tmp / f"{name}.toml"
    write_config(path, Plan(links=[("telegram", "webhook")], lease=60.0), {"telegram": fake.base_url}, port, tmp)
    path.write_text(path.read_text().replace("[scheduler]", "[scheduler]\nleader_lease_seconds = 6", 1))
    return path, port


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
        config_a, port_a = config_for(tmp_path, "a", fake)
        config_b, _port_b = config_for(tmp_path, "b", fake)
        a = BotProcess(config_a, pg.url, tmp_path / "a.log")
        b = BotProcess(config_b, pg.url, tmp_path / "b.log")
        try:
            await a.start()
            await b.start()
            async with aiohttp.ClientSession() as http:
                for n, text in enumerate(SAYS):  # all to A, each answered 200: acknowledged
                    update = fake.user_message(HEAD, text, push=False) | {"update_id": 100 + n}
                    async with http.post(f"http://127.0.0.1:{port_a}/telegram/webhook", json=update,
                                         headers={SECRET_HEADER: SECRET}) as resp:
                        assert resp.status == 200
            await until(held.is_set, "A's first reply on its way", 60.0)
            await a.signal(signal.SIGKILL)
            killed = time.monotonic()
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
            assert "processed here" in (tmp_path / "b.log").read_text()  # B took over A's updates
        finally:
            await a.close()
            await b.signal(signal.SIGTERM)
            await b.close()
