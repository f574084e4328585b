"""The Telegram adapter of the delivery pipeline (:mod:`bot.pipeline`): an update, as the inbox keeps
it, read into an :class:`Inbound`; replies rendered with keyboards (:mod:`telegram_render`); one Bot
API message sent through python-telegram-bot, its errors mapped to the pipeline's.

- Private chats only: text and commands, a shared contact (one's own: another's is refused politely),
  a photo or an image sent as a file (fetched when the row is processed), a button press (answered
  while the step runs; the buttons are then taken off the question). Any other private message gets
  "unsupported"; group chats and edited messages are ignored.
- Sends go one try at a time (``Retries(0)``): the pipeline retries a 429 after its ``retry_after``;
  the rate limiter keeps the pace (30/s overall, ~1/s per chat) and notes the pause for the chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from telegram import Document, InputFile, Message, PhotoSize, Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application

from bot.channels.telegram_intake import inbox_key
from bot.channels.telegram_limits import Retries, retry_after_seconds
from bot.channels.telegram_render import TEXT_LIMIT, Outgoing, chosen_label, coalesce, render, tg_len
from bot.pipeline.adapter import AdapterBase, Inbound, RetryPolicy
from bot.pipeline.errors import SendBlocked, SendError, SendRejected, SendRetryLater
from handlers.clean import clean_incoming
from handlers.engine import Sendable
from handlers.messages import Incoming, IncomingPhoto, Reply
from models.photos.store import MAX_PHOTO_BYTES
from texts.catalog import t

log = logging.getLogger(__name__)

CHANNEL = "telegram"
PARSED_KEPT = 4096  # updates kept parsed between their receipt and their processing


@dataclass(slots=True)
class TelegramUpdate:
    update: Update
    button: bool = False  # a button press: answered while handled, its question closed after the step
    remove_keyboard: bool = False  # a shared contact: the reply keyboard goes away with the answer
    photo: PhotoSize | Document | None = None  # fetched by ``prepare``


def chat_id(address: str) -> int | str:
    return int(address) if address.lstrip("-").isdigit() else address


class TelegramAdapter(AdapterBase[TelegramUpdate, Outgoing]):
    name = CHANNEL

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], max_retries: int) -> None:
        self.application = application
        self.retry = RetryPolicy(attempts=max_retries + 1, initial=0.0, maximum=300.0)
        # updates parsed on receipt, by their payload's identity (the payload held: its id stays its own)
        self._parsed: dict[int, tuple[dict[str, Any], Update]] = {}

    # --- reading ---------------------------------------------------------------------------------
    def remember(self, payload: dict[str, Any], update: Update) -> None:
        """``update`` was parsed from ``payload`` on receipt: :meth:`read` takes it instead of parsing
        the payload again (the oldest forgotten beyond :data:`PARSED_KEPT`: read from the payload)."""
        if len(self._parsed) >= PARSED_KEPT:
            del self._parsed[next(iter(self._parsed))]
        self._parsed[id(payload)] = (payload, update)

    def read(self, payload: dict[str, Any]) -> Inbound[TelegramUpdate] | None:
        kept = self._parsed.pop(id(payload), None)
        if kept is not None and kept[0] is payload:
            return self.read_update(kept[1])
        try:
            update = Update.de_json(payload, self.application.bot)
        except Exception as exc:  # stored as received: a body PTB cannot read is skipped, not retried
            log.warning("telegram: stored update unreadable (%s: %s); skipped", type(exc).__name__, exc)
            return None
        return self.read_update(update)

    def read_update(self, update: Update) -> Inbound[TelegramUpdate] | None:
        user, chat, query = update.effective_user, update.effective_chat, update.callback_query
        if query is not None:
            context = TelegramUpdate(update, button=True)
            address = str(chat.id) if chat is not None else ""
            account = str(user.id) if user is not None else address
            if user is None or chat is None or chat.type != chat.PRIVATE or not query.data:
                return Inbound(address, account, context=context)  # answered, nothing more
            return Inbound(address, account, self._incoming(update, choice=query.data), context=context)
        message = update.message
        if message is None or user is None or chat is None or chat.type != chat.PRIVATE:
            return None  # edited messages, channel posts, groups: not ours to answer
        address, account, context = str(chat.id), str(user.id), TelegramUpdate(update)
        if message.text is not None:
            return Inbound(address, account, self._incoming(update, text=message.text), context=context)
        if message.contact is not None:
            context.remove_keyboard = True
            if message.contact.user_id != user.id:
                return Inbound(address, account, answer=Reply(t("telegram.not_own_contact")), context=context)
            return Inbound(address, account, self._incoming(update, phone=message.contact.phone_number),
                           context=context)
        image = message.document if message.document and (message.document.mime_type or "").startswith("image") \
            else None
        if message.photo or image is not None:
            context.photo = message.photo[-1] if message.photo else image
            return Inbound(address, account, self._incoming(update), context=context)
        return Inbound(address, account, answer=Reply(t("telegram.unsupported")), context=context)

    @staticmethod
    def _incoming(update: Update, **content: Any) -> Incoming:
        user = update.effective_user
        assert user is not None
        return clean_incoming(Incoming(channel=CHANNEL, account_id=str(user.id), message_id=inbox_key(update),
                                       display_name=user.full_name, **content))

    async def prepare(self, inbound: Inbound[TelegramUpdate]) -> Incoming:
        """The photo (its largest size, or an image sent as a file) fetched with getFile and the file
        URL, for the engine to store; a failure is said plainly."""
        assert inbound.incoming is not None and inbound.context is not None
        largest = inbound.context.photo
        if largest is None:
            return inbound.incoming
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
        return replace(inbound.incoming, photo=photo)

    @contextlib.asynccontextmanager
    async def around(self, inbound: Inbound[TelegramUpdate]) -> AsyncIterator[None]:
        """A button press is acknowledged while the step runs: not on the tap's critical path."""
        query = inbound.context.update.callback_query if inbound.context is not None else None
        answering = asyncio.create_task(self._answer(query.answer())) if query is not None else None
        try:
            yield
        finally:
            if answering is not None:
                await answering

    @staticmethod
    async def _answer(answer: Awaitable[bool]) -> None:
        try:
            await answer
        except TelegramError as exc:  # too old, or a network hiccup: the press still counts
            log.info("telegram: answerCallbackQuery failed: %s", exc)

    async def after_step(self, inbound: Inbound[TelegramUpdate], replies: Sequence[Sendable]) -> None:
        """Take the buttons off the answered question and show what was chosen under it."""
        context = inbound.context
        query = context.update.callback_query if context is not None and context.button else None
        if query is None or not replies:
            return
        message = query.message
        if not isinstance(message, Message):  # None, or an InaccessibleMessage (too old): nothing to edit
            return
        label = chosen_label(message.reply_markup, query.data)
        text = message.text
        where = {"chat_id": message.chat_id, "message_id": message.message_id}
        try:
            if text and label and tg_len(text) + len(label) + 40 < TEXT_LIMIT:
                await self.call("editMessageText", {**where, "text": text + "\n\n" + t("telegram.chosen", label=label)},
                                retries=None)
            else:
                await self.call("editMessageReplyMarkup", where, retries=None)
        except TelegramError as exc:  # already edited (a second tap), too old, or not now: the replies go all the same
            log.info("telegram: could not close the answered question: %s", exc)

    # --- writing ---------------------------------------------------------------------------------
    def shape(self, replies: list[Reply]) -> list[Reply]:
        return coalesce(replies)

    async def render(self, replies: Sequence[Reply], inbound: Inbound[TelegramUpdate] | None) -> list[list[Outgoing]]:
        remove = inbound is not None and inbound.context is not None and inbound.context.remove_keyboard
        out: list[list[Outgoing]] = []
        for reply in replies:
            parts = render(reply, remove_keyboard=remove)
            if any(o.markup is not None for o in parts):
                remove = False
            out.append(parts)
        return out

    def part_text(self, part: Outgoing) -> str | None:
        return part.text

    async def send(self, address: str, part: Outgoing, *, booked: bool = False) -> None:
        try:
            await self.post(chat_id(address), part, retries=0, booked=booked)
        except RetryAfter as exc:
            raise SendRetryLater(retry_after_seconds(exc), str(exc)) from exc
        except Forbidden as exc:
            raise SendBlocked(str(exc)) from exc
        except BadRequest as exc:
            raise SendRejected(str(exc)) from exc
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx: the outbox tries again later
            raise SendError(str(exc), retry_now=False) from exc

    async def post(self, to: int | str, out: Outgoing, retries: int, booked: bool = False) -> None:
        """``booked``: its slot in the pace is taken already (the rate limiter does not book another)."""
        bot = self.application.bot
        if out.document is not None:
            doc = out.document
            await bot.send_document(to, InputFile(doc.content, filename=doc.filename), caption=out.text,
                                    reply_markup=out.markup, rate_limit_args=Retries(retries, booked))
        else:
            assert out.text is not None
            await self.call("sendMessage", {"chat_id": to, "text": out.text, "reply_markup": out.markup}, retries,
                            booked)

    async def call(self, method: str, data: dict[str, Any], retries: int | None = 0, booked: bool = False) -> Any:
        """One Bot API call through python-telegram-bot's request path (the rate limiter, repeating a
        429 ``retries`` times, or its own count for None; the errors as ``TelegramError``), its result
        left as the JSON it came as: a ``Message`` built for every reply and edit, never read, was a
        tenth of a step's CPU. A ``None`` value is left out (as PTB's own methods do); markup objects
        are serialised by PTB."""
        bot = self.application.bot
        limits = None if retries is None else Retries(retries, booked)
        return await bot._post(method, data, api_kwargs=bot._merge_api_rl_kwargs(None, limits))
