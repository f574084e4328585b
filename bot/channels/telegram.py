"""The Telegram channel: python-telegram-bot 22 at the edge of the dialog engine.

Updates (text and commands, button presses, shared contacts) become :class:`Incoming`s with the
``update_id`` as message id, so a redelivered update is handled once; the engine's replies are
rendered by :mod:`bot.channels.telegram_render`. Long polling by default; in webhook mode the
project's aiohttp server receives the updates (:mod:`bot.channels.telegram_webhook`).
Pacing (30 msg/s overall, ~1/s per chat, ``retry_after``) is :mod:`bot.channels.telegram_limits`;
requests go over the App's one aiohttp session (:mod:`bot.channels.telegram_http`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import aiohttp
from telegram import BotCommand, InputFile, Message, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.channels.base import Route, SendBlocked, SendError, SendRejected, SendRetryLater
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_limits import ChatRateLimiter, PerChatUpdateProcessor, Retries, retry_after_seconds
from bot.channels.telegram_render import TEXT_LIMIT, Outgoing, chosen_label, coalesce, render, tg_len
from bot.channels.telegram_webhook import webhook_handler
from bot.config import TelegramConfig
from handlers.clean import clean_incoming
from handlers.commands import menu
from handlers.engine import Engine
from handlers.messages import Incoming, Reply
from models.accounts import Accounts
from texts.catalog import t

log = logging.getLogger(__name__)

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def file_url_for(api_base_url: str) -> str:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot``."""
    base = api_base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


class Progress:
    """Updates fully handled, per account: something to wait on (tests, the benchmark)."""

    def __init__(self) -> None:
        self.total = 0
        self.by_account: dict[str, int] = {}
        self._changed = asyncio.Event()

    def done(self, account_id: str) -> None:
        self.total += 1
        self.by_account[account_id] = self.by_account.get(account_id, 0) + 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, n: int, account_id: str | None = None) -> None:
        while (self.by_account.get(account_id, 0) if account_id else self.total) < n:
            await self._changed.wait()


class TelegramChannel:
    name = CHANNEL

    def __init__(self, cfg: TelegramConfig, dialog: Engine, http: aiohttp.ClientSession, accounts: Accounts, *,
                 clock: Callable[[], datetime] | None = None, limiter: ChatRateLimiter | None = None) -> None:
        self.config = cfg
        self.dialog, self.accounts = dialog, accounts
        if cfg.token is None:
            raise ValueError("telegram.token is not set")
        self.clock = clock  # None: the engine's own clock
        self.progress = Progress()
        self.limiter = limiter or ChatRateLimiter(cfg.rate_per_second, cfg.chat_per_second, cfg.chat_burst,
                                                  cfg.max_retries)  # limiter: shared by the workers (PostgreSQL)
        builder = (Application.builder().token(cfg.token.get_secret_value()).base_url(cfg.api_base_url)
                   .base_file_url(cfg.file_base_url or file_url_for(cfg.api_base_url))
                   .request(AiohttpRequest(http)).get_updates_request(AiohttpRequest(http))
                   .rate_limiter(self.limiter)
                   .concurrent_updates(PerChatUpdateProcessor(cfg.concurrent_updates)))
        if cfg.mode == "webhook":
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(MessageHandler(PRIVATE & filters.TEXT, self._on_text))
        self.application.add_handler(MessageHandler(PRIVATE & filters.CONTACT, self._on_contact))
        self.application.add_handler(CallbackQueryHandler(self._on_button))
        self.application.add_handler(MessageHandler(PRIVATE, self._on_other))
        self.application.add_error_handler(self._on_error)
        self._bootstrap_task: asyncio.Task[None] | None = None
        self._commands_set = self._webhook_set = False

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
        if app.updater is not None and not app.updater.running:  # polling; drop nothing that waits
            await app.updater.start_polling(timeout=cfg.poll_timeout, allowed_updates=ALLOWED_UPDATES,
                                            drop_pending_updates=False, error_callback=self._on_polling_error)

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
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    # --- incoming --------------------------------------------------------------------------------
    def _incoming(self, update: Update, **content: str | None) -> Incoming:
        user = update.effective_user
        assert user is not None
        return clean_incoming(Incoming(channel=CHANNEL, account_id=str(user.id), message_id=f"u{update.update_id}",
                                       display_name=user.full_name, **content))

    async def _on_text(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await self._handle(update, self._incoming(update, text=update.message.text))

    async def _on_contact(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.contact is not None and update.effective_user
        contact = update.message.contact
        if contact.user_id != update.effective_user.id:
            await self._reply_plain(update, t("telegram.not_own_contact"), remove_keyboard=True)
            return
        await self._handle(update, self._incoming(update, phone=contact.phone_number), remove_keyboard=True)

    async def _on_other(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        await self._reply_plain(update, t("telegram.unsupported"))

    async def _on_button(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        try:
            await query.answer()
        except TelegramError as exc:  # too old, or a network hiccup: the press still counts
            log.info("telegram: answerCallbackQuery failed: %s", exc)
        if chat is None or chat.type != chat.PRIVATE or not query.data:
            return
        await self._handle(update, self._incoming(update, choice=query.data), button=True)

    async def _handle(self, update: Update, incoming: Incoming, *, remove_keyboard: bool = False,
                      button: bool = False) -> None:
        try:
            replies = await self.dialog.handle(incoming, now=self.clock() if self.clock else None)
            if replies and button:
                await self._close_question(update)
            assert update.effective_chat is not None
            await self.deliver(update.effective_chat.id, replies, remove_keyboard=remove_keyboard)
        finally:
            self.progress.done(incoming.account_id)

    async def _close_question(self, update: Update) -> None:
        """Take the buttons off the answered question and show what was chosen under it."""
        query = update.callback_query
        assert query is not None
        message = query.message
        if not isinstance(message, Message):  # None, or an InaccessibleMessage (too old): nothing to edit
            return
        label = chosen_label(message.reply_markup, query.data)
        text = message.text
        try:
            if text and label and tg_len(text) + len(label) + 40 < TEXT_LIMIT:
                await message.edit_text(text + "\n\n" + t("telegram.chosen", label=label), reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:  # already edited (a second tap), or too old to edit
            log.info("telegram: could not close the answered question: %s", exc)

    async def _reply_plain(self, update: Update, text: str, remove_keyboard: bool = False) -> None:
        try:
            if update.effective_chat is not None:
                await self.deliver(update.effective_chat.id, [Reply(text)], remove_keyboard=remove_keyboard)
        finally:
            if update.effective_user is not None:
                self.progress.done(str(update.effective_user.id))

    # --- outgoing --------------------------------------------------------------------------------
    async def deliver(self, chat_id: int, replies: list[Reply], *, remove_keyboard: bool = False) -> None:
        """Send a reply to an incoming message; a chat that blocked the bot is marked and skipped."""
        for reply in coalesce(replies):
            outgoing = render(reply, remove_keyboard=remove_keyboard)
            if any(o.markup is not None for o in outgoing):
                remove_keyboard = False
            for out in outgoing:
                try:
                    await self._post(chat_id, out, retries=self.config.max_retries)
                except Forbidden as exc:
                    log.info("telegram: chat %s blocked the bot (%s); marked", chat_id, exc)
                    await self.mark_blocked(str(chat_id))
                    return
                except BadRequest as exc:  # this message is refused; the others may go through
                    log.warning("telegram: message to chat %s refused: %s", chat_id, exc)

    async def _post(self, chat_id: int | str, out: Outgoing, retries: int) -> None:
        bot = self.application.bot
        if out.document is not None:
            doc = out.document
            await bot.send_document(chat_id, InputFile(doc.content, filename=doc.filename), caption=out.text,
                                    reply_markup=out.markup, rate_limit_args=Retries(retries))
        else:
            assert out.text is not None
            await bot.send_message(chat_id, out.text, reply_markup=out.markup, rate_limit_args=Retries(retries))

    async def mark_blocked(self, external_id: str) -> None:
        await self.accounts.mark_blocked(CHANNEL, external_id)

    async def send(self, external_id: str, reply: Reply) -> None:
        """For the outbox: one attempt (no retries here), errors mapped to the outbox's vocabulary."""
        if not self.application.running:
            raise SendError("the Telegram channel is not connected")
        try:
            for out in render(reply):
                await self._post(external_id, out, retries=0)
        except RetryAfter as exc:
            raise SendRetryLater(retry_after_seconds(exc), str(exc)) from exc
        except Forbidden as exc:
            raise SendBlocked(str(exc)) from exc
        except BadRequest as exc:
            raise SendRejected(str(exc)) from exc
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx, ...
            raise SendError(str(exc)) from exc

    # --- errors ----------------------------------------------------------------------------------
    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log first; an unexpected failure (not a network one) is also told to the user."""
        log.error("telegram: error while handling %s", update, exc_info=context.error)
        if isinstance(context.error, TelegramError) or not isinstance(update, Update):
            return
        if update.effective_chat is not None and update.effective_chat.type == "private":
            try:
                await self.application.bot.send_message(update.effective_chat.id, t("common.error"),
                                                        rate_limit_args=Retries(0))
            except TelegramError:
                log.warning("telegram: could not tell chat %s about the error", update.effective_chat.id)

    def _on_polling_error(self, error: TelegramError) -> None:
        log.warning("telegram: polling failed (%s); retrying", error)
