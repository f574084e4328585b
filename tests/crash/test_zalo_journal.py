"""Zalo polling, ``kill -9`` right after getUpdates answered (the update consumed on Zalo's side) and
before the inbox has it: the real process, the stand-in Zalo and PostgreSQL behind a proxy that is cut
the moment the stand-in hands the update out, so the bot can parse the answer but not write it to the
database. The poll journal has it; the next start processes it. (Without the journal it was lost.)"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, select

from bot.channels.zalo import JOURNAL
from models.delivery.tables import ProcessedMessage
from tests.conftest import Database
from tests.crash.process import BotProcess, free_port
from tests.crash.proxy import Proxy
from tests.fakes.zalo_api import FakeZalo

TOKEN = "1459232241454:journal-zalo-token"
USER = "z-journal-1"


async def test_an_update_polled_just_before_kill_9_is_processed_at_the_next_start(pg: Database,
                                                                                 tmp_path: Path) -> None:
    url = make_url(pg.url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    async with FakeZalo(token=TOKEN) as fake:
        get_updates = fake.handlers["getUpdates"]
        handed: list[str] = []

        async def consumed(params: dict[str, Any]) -> Any:
            update = await get_updates(params)
            if not handed:  # the first update: its database goes away as the answer leaves
                handed.append(update["message"]["message_id"])
                await proxy.cut()
            return update

        fake.handlers["getUpdates"] = consumed
        files = tmp_path / "files"
        config = tmp_path / "bot.toml"
        config.write_text("\n".join([
            "[scheduler]", "enabled = false", "[web]", 'host = "127.0.0.1"', f"port = {free_port()}",
            "[zalo]", f'token = "{TOKEN}"', f'api_base_url = "{fake.base_url}"', 'mode = "polling"',
            "poll_timeout = 1", "backoff_initial = 0.2", "backoff_max = 1", f'files_dir = "{files}"', ""]))
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        bot = BotProcess(config, proxied, tmp_path / "bot.log")
        try:
            await bot.start()
            assert "polling mode" in (tmp_path / "bot.log").read_text()  # the start-up warning
            fake.push_text(USER, "xin chào")
            journal = files / JOURNAL
            for _ in range(600):  # until the bot wrote the consumed update down (a safety net of a minute)
                if journal.exists() and handed and handed[0] in journal.read_text():
                    break
                await asyncio.sleep(0.1)
            assert handed and handed[0] in journal.read_text()
            await bot.signal(signal.SIGKILL)  # before the database came back: not in the inbox
            async with pg.sessions() as s:
                assert (await s.execute(select(ProcessedMessage.message_id))).scalars().all() == []
            await proxy.restore()
            await bot.start()
            for _ in range(600):
                if fake.sent_to(USER) and any("Chào" in m or "mã" in m for m in fake.sent_to(USER)):
                    break
                await asyncio.sleep(0.1)
            async with pg.sessions() as s:
                done = (await s.execute(select(ProcessedMessage.message_id))).scalars().all()
            assert len(done) == 1 and done[0].endswith(handed[0]), (tmp_path / "bot.log").read_text()[-3000:]
            assert journal.read_text() == ""
        finally:
            await bot.close()
            await proxy.close()
