"""The three channels as the delivery suite drives them: a user on Telegram (webhook, FakeTelegram),
on Zalo (webhook, FakeZalo) and in the web chat, over the real App and database; and a database
outage on either database kind (PostgreSQL: a proxy cut; SQLite: the tables gone)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select, text

from bot.app import App, build, start, stop
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_webhook import SECRET_HEADER
from bot.channels.zalo import ZaloChannel
from bot.config import Config
from bot.delivery import DrainStats, RateLimiter, drain_once
from bot.web.chat import WebChatChannel
from models.accounts.people import get_or_create_account
from models.accounts.tables import ChannelAccount
from models.clock import utcnow
from models.db import transaction
from models.delivery import outbox
from tests.bot.channels import test_telegram as tg
from tests.bot.channels import test_zalo as zl
from tests.conftest import Database
from tests.crash.proxy import Proxy
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.waiting import until
from texts.catalog import t

WAIT = 60.0  # a safety net against a hang, not a time limit on the code
DELAYED = t("intake.delayed")
OUTAGE_TABLES = ("inbox_message", "channel_account", "processed_message")


class Outage:
    """The database unreachable and back: a TCP proxy cut on PostgreSQL; on SQLite the tables every
    update needs renamed away (SQLite then answers "no such table", an OperationalError like "unable
    to open")."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.proxy: Proxy | None = None

    async def url(self) -> str:
        if self.db.kind != "postgres":
            return self.db.url
        self.proxy = Proxy("127.0.0.1", 5432)
        await self.proxy.start()
        head, _, rest = self.db.url.rpartition("@")
        _hostport, _, name = rest.partition("/")
        return f"{head}@127.0.0.1:{self.proxy.port}/{name}"

    async def cut(self) -> None:
        if self.proxy is not None:
            await self.proxy.cut()
            return
        async with self.db.engine.begin() as conn:
            for table in OUTAGE_TABLES:
                await conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))

    async def restore(self) -> None:
        if self.proxy is not None:
            await self.proxy.restore()
            return
        async with self.db.engine.begin() as conn:
            for table in OUTAGE_TABLES:
                await conn.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))

    async def close(self) -> None:
        if self.proxy is not None:
            await self.proxy.close()


class Side:
    """One user of one channel. ``send`` delivers a new message as the platform would and returns the
    HTTP status the platform got (200 for the web chat: the page is answered at once)."""

    name = ""
    app: App

    async def send(self, text_: str) -> int: ...

    async def redeliver(self) -> int: ...

    def received(self) -> list[str]: ...

    async def settled(self) -> None: ...

    async def blocked(self) -> bool:
        async with transaction(self.app.sessions) as s:
            account = (await s.execute(select(ChannelAccount).where(
                ChannelAccount.channel == self.name, ChannelAccount.external_id == self.account))).scalar_one()
            return account.blocked

    account = ""

    async def queue(self, key: str, text_: str) -> None:
        """An outbox row for this user (a reminder, say): what the drain sends on the bot's initiative."""
        async with transaction(self.app.sessions) as s:
            account = (await s.execute(select(ChannelAccount).where(
                ChannelAccount.channel == self.name, ChannelAccount.external_id == self.account))).scalar_one()
            assert account.id is not None
            assert await outbox.enqueue(s, key=key, kind="reminder", account_id=account.id, text=text_, now=utcnow())

    async def drain(self) -> DrainStats:
        """One pass of the outbox drain over the App's channels."""
        return await drain_once(self.app.sessions, self.app.channels, RateLimiter(1e6, 0.0))

    async def close(self) -> None:
        await stop(self.app)


def fail_after_first(fake: FakeTelegram | FakeZalo, status: int) -> None:
    """The next ``sendMessage`` goes through, the one after it is refused with ``status`` (a long
    message's second part)."""
    original = fake.handlers["sendMessage"]

    async def then_fail(params: dict[str, Any]) -> Any:
        result = await original(params)
        fake.handlers["sendMessage"] = original
        fake.fail_next("sendMessage", status)
        return result

    fake.handlers["sendMessage"] = then_fail


class TelegramSide(Side):
    name = "telegram"

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake, self.account = fake, str(tg.HEAD)
        self._ids = itertools.count(1000)
        self.last: dict[str, Any] = {}

    async def open(self, url: str) -> TelegramSide:
        self.app = await build(tg.make_config(url, self.fake, "webhook"))
        await start(self.app)
        channel = self.app.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        self.channel = channel
        self.hook = f"http://127.0.0.1:{self.app.config.web.port}{self.app.config.telegram.webhook_path}"
        return self

    async def _post(self, update: dict[str, Any]) -> int:
        async with aiohttp.ClientSession() as http, http.post(
                self.hook, json=update, headers={SECRET_HEADER: tg.SECRET}) as resp:
            return resp.status

    async def send(self, text_: str) -> int:
        self.last = self.fake.user_message(tg.HEAD, text_, push=False) | {"update_id": next(self._ids)}
        return await self._post(self.last)

    async def redeliver(self) -> int:
        return await self._post(self.last)

    def received(self) -> list[str]:
        return self.fake.sent_to(tg.HEAD)

    async def settled(self) -> None:
        await self.channel.intake.idle()

    def fail_next_send(self) -> None:
        self.fake.fail_next("sendMessage", 429, retry_after=1)

    def fail_second_part(self) -> None:
        fail_after_first(self.fake, 429)

    def part_limit(self) -> int:
        return 4096  # Telegram's message length

    def sends(self) -> int:
        return [m for m, _ in self.fake.calls].count("sendMessage")

    def block(self) -> None:
        self.fake.block(tg.HEAD)


class ZaloSide(Side):
    name = "zalo"

    def __init__(self, fake: FakeZalo, tmp_path: Path) -> None:
        self.fake, self.tmp_path, self.account = fake, tmp_path, zl.HEAD
        self.last: dict[str, Any] = {}

    async def open(self, url: str) -> ZaloSide:
        self.app = await build(zl.make_config(url, self.tmp_path, self.fake, mode="webhook"))
        await start(self.app)
        channel = self.app.channels["zalo"]
        assert isinstance(channel, ZaloChannel)
        self.channel = channel
        self.fake.know(zl.HEAD)  # the head wrote to the bot: Zalo lets the bot answer
        return self

    async def send(self, text_: str) -> int:
        self.last = {"event_name": "message.text.received", "message": self.fake.message(zl.HEAD, text=text_)}
        return await self.redeliver()

    async def redeliver(self) -> int:
        status, _ = await self.fake.deliver_webhook(zl.webhook_url(self.app), zl.SECRET, self.last)
        return int(status)

    def received(self) -> list[str]:
        return self.fake.sent_to(zl.HEAD)

    async def settled(self) -> None:
        await self.channel.idle()

    def fail_next_send(self) -> None:
        self.fake.fail_next("sendMessage", 429)

    def fail_second_part(self) -> None:
        fail_after_first(self.fake, 429)

    def part_limit(self) -> int:
        return 2000  # Zalo's message length

    def sends(self) -> int:
        return len(self.fake.methods_called("sendMessage"))

    def block(self) -> None:
        self.fake.fail_next("sendMessage", 410)  # gone between writing and the answer (writing "knows" a chat)


class WebSide(Side):
    name = "web"

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path, self.account = tmp_path, "web-head-1"
        self._ids = itertools.count(1)
        self.last: tuple[str, str] = ("", "")

    async def open(self, url: str) -> WebSide:
        config = Config.model_validate({"database": {"url": url}, "scheduler": {"enabled": False},
                                        "web": {"host": "127.0.0.1", "port": zl.free_port(), "chat_enabled": True,
                                                "secret_key": "test-secret-key-web"}})
        self.app = await build(config)
        await start(self.app)
        async with transaction(self.app.sessions) as s:
            await get_or_create_account(s, "web", self.account, utcnow())
        channel = self.app.channels["web"]
        assert isinstance(channel, WebChatChannel)
        self.channel = channel
        self.channel.retry_initial = self.channel.retry_max = 0.2
        return self

    async def send(self, text_: str) -> int:
        self.last = (text_, f"web:m{next(self._ids)}")
        return await self.redeliver()

    async def redeliver(self) -> int:
        text_, message_id = self.last
        known = await self.channel.handle(self.account, text=text_, choice=None, label=None, message_id=message_id)
        return 200 if known else 404

    def received(self) -> list[str]:
        return [m["text"] for m in self.channel.messages(self.account) if m["from"] == "bot"]

    async def settled(self) -> None:
        await until(lambda: not self.channel.waiting(self.account), "the held messages handled", WAIT)


async def open_side(kind: str, url: str, tmp_path: Path, telegram: FakeTelegram, zalo: FakeZalo) -> Side:
    if kind == "telegram":
        return await TelegramSide(telegram).open(url)
    if kind == "zalo":
        return await ZaloSide(zalo, tmp_path).open(url)
    return await WebSide(tmp_path).open(url)
