"""The Telegram channel: python-telegram-bot 22 at the edge of the dialog engine.

Every update is written to the inbox before Telegram is told it arrived, then processed from there
(:mod:`bot.channels.telegram_intake`, :class:`bot.intake.Intake`): long polling by default (our own
``getUpdates`` loop), or the webhook on the project's aiohttp server (:mod:`bot.channels.telegram_webhook`).
Updates (text and commands, button presses, shared contacts) become :class:`Incoming`s keyed like
their inbox row, so a redelivered update is handled once. The engine's replies come back as outbox
rows written with the step; they are sent at once and marked sent (the drain sends what a crash
left). The replies are rendered by :mod:`bot.channels.telegram_render`.
Pacing (30 msg/s overall, ~1/s per chat, ``retry_after``) is :mod:`bot.channels.telegram_limits`;
requests go over the App's one aiohttp session (:mod:`bot.channels.telegram_http`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
from telegram import BotCommand, InputFile, Message, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.channels.base import Route, SendBlocked, SendError, SendRejected, SendRetryLater
from bot.channels.telegram_http import AiohttpRequest, UpdatesRequest
from bot.channels.telegram_intake import inbox_item, inbox_key, poll
from bot.channels.telegram_limits import ChatRateLimiter, PerChatUpdateProcessor, Retries, retry_after_seconds
from bot.channels.telegram_render import TEXT_LIMIT, Outgoing, chosen_label, coalesce, render, tg_len
from bot.channels.telegram_webhook import webhook_handler
from bot.config import TelegramConfig
from bot.intake import MARKED, Intake
from bot.settle import Settle, finish
from handlers.clean import clean_incoming
from handlers.commands import menu
from handlers.engine import Engine, Sendable, Transient
from handlers.messages import Incoming, IncomingPhoto, Reply
from models.accounts.access import Accounts
from models.delivery.inbox import Pending
from models.photos.store import MAX_PHOTO_BYTES
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
        self.updates_request = UpdatesRequest(http)  # getUpdates: also keeps the updates as received
        builder = (Application.builder().token(cfg.token.get_secret_value()).base_url(cfg.api_base_url)
                   .base_file_url(cfg.file_base_url or file_url_for(cfg.api_base_url))
                   .request(AiohttpRequest(http)).get_updates_request(self.updates_request)
                   .rate_limiter(self.limiter)
                   .concurrent_updates(PerChatUpdateProcessor(cfg.concurrent_updates))
                   .updater(None))  # updates come through the inbox (telegram_intake)
        self.application = builder.build()
        self.intake = Intake(accounts.sessions, CHANNEL, self._process)
        self.settle = Settle(accounts.sessions)
        self._retry: set[str] = set()  # inbox keys whose step met a database outage
        self._told: set[str] = set()  # ... and whose sender was told to wait
        self._marked: set[str] = set()  # inbox keys the step's own transaction marked done
        self._parsed: dict[str, Update] = {}  # updates as received, by inbox key: not parsed again
        self._poller: asyncio.Task[None] | None = None
        self.application.add_handler(MessageHandler(PRIVATE & filters.TEXT, self._on_text))
        self.application.add_handler(MessageHandler(PRIVATE & filters.CONTACT, self._on_contact))
        self.application.add_handler(MessageHandler(PRIVATE & (filters.PHOTO | filters.Document.IMAGE), self._on_photo))
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
            self.intake.stopping = False
            try:
                await self.intake.recover()
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
        await self.intake.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    # --- incoming --------------------------------------------------------------------------------
    def _incoming(self, update: Update, **content: Any) -> Incoming:
        user = update.effective_user
        assert user is not None
        return clean_incoming(Incoming(channel=CHANNEL, account_id=str(user.id), message_id=inbox_key(update),
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

    async def _on_photo(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """The photo (its largest size, or an image sent as a file), fetched (getFile, then the file URL)
        when its update is processed from the inbox, for the engine to store; a failure is said plainly."""
        message = update.message
        assert message is not None
        largest = message.photo[-1] if message.photo else message.document
        assert largest is not None
        if largest.file_size is not None and largest.file_size > MAX_PHOTO_BYTES:
            photo = IncomingPhoto(error="too_large")
        else:
            try:
                data = bytes(await (await largest.get_file()).download_as_bytearray())
                too_large = len(data) > MAX_PHOTO_BYTES
                photo = IncomingPhoto(error="too_large") if too_large else IncomingPhoto(content=data)
            except (TelegramError, OSError) as exc:
                log.info("telegram: photo download failed: %s", exc)
                photo = IncomingPhoto(error="download_failed")
        await self._handle(update, self._incoming(update, photo=photo))

    async def _on_other(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        await self._reply_plain(update, t("telegram.unsupported"))

    async def _on_button(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        # the press is acknowledged while the step runs: the answer is not on the tap's critical path
        answering = asyncio.create_task(self._answer(query.answer()))
        try:
            if chat is None or chat.type != chat.PRIVATE or not query.data:
                return
            await self._handle(update, self._incoming(update, choice=query.data), button=True)
        finally:
            await answering

    @staticmethod
    async def _answer(answer: Awaitable[bool]) -> None:
        try:
            await answer
        except TelegramError as exc:  # too old, or a network hiccup: the press still counts
            log.info("telegram: answerCallbackQuery failed: %s", exc)

    async def _handle(self, update: Update, incoming: Incoming, *, remove_keyboard: bool = False,
                      button: bool = False) -> None:
        assert update.effective_chat is not None
        chat_id = update.effective_chat.id
        try:
            replies = await self.dialog.handle_durable(incoming, now=self.clock() if self.clock else None,
                                                       shape=coalesce)
        except Transient:  # nothing saved; the inbox row is tried again
            assert incoming.message_id is not None
            self._retry.add(incoming.message_id)
            if incoming.message_id not in self._told:
                self._told.add(incoming.message_id)
                await self._reply_plain(update, t("intake.delayed"), count=False)
            return
        except BaseException:
            self.progress.done(incoming.account_id)
            raise
        if incoming.message_id:
            self._marked.add(incoming.message_id)
        try:
            self._told.discard(incoming.message_id or "")
            if replies and button:
                await self._close_question(update)
            await self.deliver_rows(chat_id, replies, remove_keyboard=remove_keyboard)
        finally:
            self.progress.done(incoming.account_id)

    async def tell_delayed(self, updates: Sequence[Update]) -> None:
        """The database is down and these updates could not be written down (Telegram keeps them):
        tell each sender once that the message will be handled."""
        for update in updates:
            key = inbox_key(update)
            chat = update.effective_chat
            if key in self._told or chat is None or chat.type != chat.PRIVATE:
                continue
            self._told.add(key)
            try:
                await self.application.bot.send_message(chat.id, t("intake.delayed"), rate_limit_args=Retries(0))
            except TelegramError as exc:
                log.info("telegram: could not tell chat %s to wait: %s", chat.id, exc)

    async def accept(self, updates: Sequence[Update], raw: Sequence[dict[str, Any]] = ()) -> None:
        """Write updates down in the inbox (raises when that fails: the caller must not acknowledge);
        the parsed updates are kept for processing (a row recovered after a restart is parsed again).
        ``raw``: the updates as received (JSON), stored as they are (matched by ``update_id``); an
        update without one is stored from ``to_dict``."""
        received = {r.get("update_id"): r for r in raw}
        items = [inbox_item(u, received.get(u.update_id)) for u in updates]
        if len(self._parsed) > 10_000:  # (left behind by redeliveries already in hand, or a stop)
            self._parsed.clear()
        for (key, _account, _payload), update in zip(items, updates, strict=True):
            self._parsed[key] = update
        try:
            await self.intake.accept(items)
        except BaseException:
            for key, _account, _payload in items:
                self._parsed.pop(key, None)
            raise

    async def _process(self, row: Pending) -> bool | str:
        """One inbox row through the application's handlers; False: try again later; MARKED: the
        dialog step marked the row done in its own transaction."""
        update = self._parsed.pop(row.key, None) or Update.de_json(row.payload, self.application.bot)
        self._retry.discard(row.key)
        self._marked.discard(row.key)
        await self.application.process_update(update)
        if row.key in self._retry:
            self._retry.discard(row.key)
            return False
        if row.key in self._marked:
            self._marked.discard(row.key)
            return MARKED
        return True

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

    async def _reply_plain(self, update: Update, text: str, remove_keyboard: bool = False, count: bool = True) -> None:
        try:
            if update.effective_chat is not None:
                await self.deliver(update.effective_chat.id, [Reply(text)], remove_keyboard=remove_keyboard)
        finally:
            if update.effective_user is not None and count:
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

    async def deliver_rows(self, chat_id: int, replies: list[Sendable], *, remove_keyboard: bool = False) -> None:
        """Send the step's replies, each followed by the mark of its outbox row (one unit a stop does
        not cut); what cannot be sent now is left to the drain."""
        for index, item in enumerate(replies):
            outgoing = render(item.reply, remove_keyboard=remove_keyboard)
            if any(o.markup is not None for o in outgoing):
                remove_keyboard = False
            if not await finish(self._send_row(chat_id, outgoing, item)):
                await self.settle.release([r.row for r in replies[index + 1:] if r.row is not None])
                return

    async def _send_row(self, chat_id: int, outgoing: list[Outgoing], item: Sendable) -> bool:
        """Send one reply and mark its row; False when the rest should not be tried now."""
        row = item.row
        try:
            for out in outgoing:
                await self._post(chat_id, out, retries=self.config.max_retries)
        except Forbidden as exc:
            log.info("telegram: chat %s blocked the bot (%s); marked", chat_id, exc)
            if row is not None:
                await self.settle.blocked(row, str(exc))
            await self.mark_blocked(str(chat_id))
            return False
        except BadRequest as exc:  # this message is refused; the others may go through
            log.warning("telegram: message to chat %s refused: %s", chat_id, exc)
            if row is not None:
                await self.settle.dead(row, str(exc))
            return True
        except TelegramError as exc:  # out of retries: the drain tries again later
            log.warning("telegram: reply to chat %s not sent now (%s); left to the outbox", chat_id, exc)
            if row is not None:
                await self.settle.retry_later(row, str(exc), counted=False)  # due now for the drain
            return False
        if row is not None:
            await self.settle.sent(row)
        return True

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
