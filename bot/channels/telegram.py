"""The Telegram channel: python-telegram-bot 22 at the edge of the delivery pipeline.

Every update is written to the inbox before Telegram is told it arrived (:mod:`bot.pipeline`): long
polling by default (our own ``getUpdates`` loop, :mod:`bot.channels.telegram_intake`), or the webhook
on the project's aiohttp server (:mod:`bot.channels.telegram_webhook`). The pipeline processes it from
there through the Telegram adapter (:mod:`bot.channels.telegram_adapter`): updates keyed like their
inbox row, so a redelivered update is handled once; the engine's replies written as outbox rows with
the step, sent at once and marked sent (the drain sends what a crash left).
Pacing (30 msg/s overall, ~1/s per chat, ``retry_after``) is :mod:`bot.channels.telegram_limits`;
requests go over the App's one aiohttp session (:mod:`bot.channels.telegram_http`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from telegram import BotCommand, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.channels.base import Route
from bot.channels.telegram_adapter import CHANNEL, TelegramAdapter, TelegramUpdate
from bot.channels.telegram_http import AiohttpRequest, UpdatesRequest
from bot.channels.telegram_intake import inbox_item, inbox_key, poll
from bot.channels.telegram_limits import ChatRateLimiter
from bot.channels.telegram_render import Outgoing
from bot.channels.telegram_webhook import webhook_handler
from bot.config import TelegramConfig
from bot.pipeline.errors import SendError
from bot.pipeline.intake import Intake, Item
from bot.pipeline.pipeline import Pipeline, Progress
from handlers.commands import menu
from handlers.engine import Engine
from handlers.messages import Reply
from models.accounts.access import Accounts

if TYPE_CHECKING:
    from bot.poll_guard import Permit

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]


def file_url_for(api_base_url: str) -> str:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot``."""
    base = api_base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


class TelegramChannel:
    name = CHANNEL

    def __init__(self, cfg: TelegramConfig, dialog: Engine, http: aiohttp.ClientSession, accounts: Accounts, *,
                 clock: Callable[[], datetime] | None = None, limiter: ChatRateLimiter | None = None,
                 owner: str | None = None) -> None:
        self.config = cfg
        self.dialog, self.accounts = dialog, accounts
        if cfg.token is None:
            raise ValueError("telegram.token is not set")
        self.limiter = limiter or ChatRateLimiter(cfg.rate_per_second, cfg.chat_per_second, cfg.chat_burst,
                                                  cfg.max_retries)  # limiter: shared by the workers (PostgreSQL)
        self.updates_request = UpdatesRequest(http)  # getUpdates: also keeps the updates as received
        builder = (Application.builder().token(cfg.token.get_secret_value()).base_url(cfg.api_base_url)
                   .base_file_url(cfg.file_base_url or file_url_for(cfg.api_base_url))
                   .request(AiohttpRequest(http)).get_updates_request(self.updates_request)
                   .rate_limiter(self.limiter)
                   .updater(None))  # updates come through the inbox (telegram_intake)
        self.application = builder.build()
        self.adapter = TelegramAdapter(self.application, cfg.max_retries)
        self.pipeline: Pipeline[TelegramUpdate, Outgoing] = Pipeline(self.adapter, dialog, accounts, clock=clock,
                                                                          owner=owner)
        self._poller: asyncio.Task[None] | None = None
        self.poll_permit: Permit | None = None  # polling: set by the composition root (bot.poll_guard)
        self._bootstrap_task: asyncio.Task[None] | None = None
        self._commands_set = self._webhook_set = False

    @property
    def clock(self) -> Callable[[], datetime] | None:
        return self.pipeline.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime] | None) -> None:
        self.pipeline.clock = clock

    @property
    def progress(self) -> Progress:
        return self.pipeline.progress

    @property
    def intake(self) -> Intake:
        return self.pipeline.intake

    def routes(self) -> list[Route]:
        """The webhook route, in webhook mode (the composition root adds it to the web server)."""
        cfg = self.config
        if cfg.mode != "webhook":
            return []
        assert cfg.webhook_secret is not None  # the config insists
        return [("POST", cfg.webhook_path, webhook_handler(cfg.webhook_secret.get_secret_value(), self))]

    @property
    def running(self) -> bool:
        return self.application.running

    @property
    def polling(self) -> bool:
        """Whether the getUpdates loop runs (polling mode, started)."""
        return self._poller is not None and not self._poller.done()

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and start receiving; when Telegram is unreachable, keep trying in the background.
        A request Telegram refuses (a bad webhook URL, say) is a configuration error: logged, not retried."""
        try:
            await self._bootstrap()
        except InvalidToken:
            log.error("telegram: the bot token was refused; the Telegram channel stays off")
        except BadRequest as exc:  # a NetworkError subclass in PTB, but retrying cannot fix it
            self._refused(exc)
        except (NetworkError, RetryAfter) as exc:
            log.warning("telegram: cannot reach the Bot API (%s); retrying in the background", exc)
            self._bootstrap_task = asyncio.create_task(self._bootstrap_later(), name="telegram-bootstrap")

    def _refused(self, exc: BadRequest) -> None:
        log.error("telegram: the Bot API refused the set-up (%s): a configuration error (check telegram.webhook_url: "
                  "https on port 443, 80, 88 or 8443); the Telegram channel stays off", exc)

    async def _bootstrap_later(self) -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self._bootstrap()
                log.info("telegram: connected")
                return
            except InvalidToken:
                log.error("telegram: the bot token was refused; the Telegram channel stays off")
                return
            except BadRequest as exc:
                self._refused(exc)
                return
            except (NetworkError, RetryAfter) as exc:
                delay = min(delay * 2, 300.0)
                log.warning("telegram: still cannot reach the Bot API (%s); next try in %.0fs", exc, delay)

    async def _bootstrap(self) -> None:
        """Each step once: a retry after a failure part-way (say deleteWebhook inside start_polling)
        resumes where it stopped instead of starting the running Application a second time."""
        app, cfg = self.application, self.config
        await app.initialize()  # getMe (a no-op once done)
        if cfg.menu_commands and not self._commands_set:
            await self._set_commands()
            self._commands_set = True
        if cfg.mode == "webhook" and not self._webhook_set:
            assert cfg.webhook_secret is not None
            await app.bot.set_webhook(cfg.webhook_url or "", secret_token=cfg.webhook_secret.get_secret_value(),
                                      allowed_updates=ALLOWED_UPDATES, max_connections=40)
            self._webhook_set = True
        if not app.running:
            await app.start()
            self.pipeline.resume()
            try:
                await self.pipeline.recover()
            except Exception as exc:  # the database is down: what is left waits for the next start
                log.warning("telegram: could not read the inbox at start (%s)", exc)
        if cfg.mode != "webhook" and self._poller is None:  # polling; drop nothing that waits
            self._poller = asyncio.create_task(poll(self, ALLOWED_UPDATES), name="telegram-poll")

    async def _set_commands(self) -> None:
        commands = [BotCommand(name, description) for name, description in menu()]
        try:
            await self.application.bot.set_my_commands(commands)
        except TelegramError as exc:
            log.warning("telegram: could not set the command menu: %s", exc)

    async def stop(self) -> None:
        """Stop fetching, finish the updates already fetched, then close (the webhook stays set)."""
        if self._bootstrap_task is not None:
            self._bootstrap_task.cancel()
            await asyncio.gather(self._bootstrap_task, return_exceptions=True)
        app = self.application
        if self._poller is not None:  # an update fetched but not written down is fetched again later
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await self.pipeline.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    # --- incoming --------------------------------------------------------------------------------
    async def tell_delayed(self, updates: Sequence[Update]) -> None:
        """The database is down and these updates could not be written down (Telegram keeps them):
        tell each sender once that the message will be handled."""
        for update in updates:
            inbound = self.adapter.read_update(update)
            if inbound is not None and (inbound.incoming is not None or inbound.answer is not None):
                await self.pipeline.tell_wait(inbox_key(update), inbound.address, inbound.account)

    def items(self, updates: Sequence[Update], raw: Sequence[dict[str, Any]] = ()) -> list[Item]:
        """The inbox items of ``updates``. ``raw``: the updates as received (JSON), stored as they are
        (matched by ``update_id``); an update without one is stored from ``to_dict``. The adapter keeps
        each parsed update beside its payload, so that the pipeline does not parse it again."""
        received = {r.get("update_id"): r for r in raw}
        items = [inbox_item(u, received.get(u.update_id)) for u in updates]
        for update, (_key, _account, payload) in zip(updates, items, strict=True):
            self.adapter.remember(payload, update)
        return items

    async def accept(self, updates: Sequence[Update], raw: Sequence[dict[str, Any]] = ()) -> None:
        """Write updates down in the inbox (raises when that fails: the caller must not acknowledge);
        a row is read again from the inbox when it is processed."""
        await self.pipeline.accept(self.items(updates, raw))

    async def mark_blocked(self, external_id: str) -> None:
        await self.accounts.mark_blocked(CHANNEL, external_id)

    # --- the outbox ------------------------------------------------------------------------------
    async def send(self, external_id: str, reply: Reply) -> None:
        """For the outbox: through the pipeline's adapter (:meth:`Pipeline.send`), its send errors. With
        the pace the workers share (PostgreSQL) the drain has booked the message's slot in it already
        (as a reply, or as a broadcast behind the replies): the rate limiter does not book a second."""
        if not self.application.running:
            raise SendError("the Telegram channel is not connected")
        await self.pipeline.send(external_id, reply, booked=self.limiter.shared)
