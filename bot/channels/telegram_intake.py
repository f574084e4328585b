"""Telegram updates into the inbox before they are confirmed.

python-telegram-bot's ``Updater`` confirms an update (the next ``getUpdates`` offset) as soon as it is
queued in memory, so a crash loses it. :func:`poll` drives ``getUpdates`` itself and moves the offset
on only after the batch is written to the inbox (:class:`bot.pipeline.intake.Intake`); a batch that cannot be
written is fetched again. The webhook route does the same before its 200 (:mod:`telegram_webhook`).

An update is keyed by what identifies it for good — the chat and message id, or the callback query
id — not by ``update_id``, which Telegram restarts after a week without updates.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.pipeline.backoff import Backoff
from bot.pipeline.intake import Item

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)


def inbox_key(update: Update) -> str:
    """``c<callback id>``, ``m<chat id>:<message id>``, or ``u<update id>`` for anything else (a
    message without its chat too: any update Telegram sends has a key, none raises here)."""
    if update.callback_query is not None:
        return f"c{update.callback_query.id}"
    message = update.message or update.edited_message
    chat = getattr(message, "chat", None) if message is not None else None
    if message is not None and chat is not None:
        return f"m{chat.id}:{message.message_id}"
    return f"u{update.update_id}"


def inbox_item(update: Update, raw: dict[str, Any] | None = None) -> Item:
    try:
        user, chat = update.effective_user, update.effective_chat
    except Exception:  # (PTB reads them from the message: one without its chat fails)
        user = chat = None
    account = str(user.id) if user is not None else str(chat.id) if chat is not None else "-"
    return inbox_key(update), account, raw if raw is not None else update.to_dict()


async def poll(channel: TelegramChannel, allowed_updates: list[str]) -> None:
    """``deleteWebhook`` once, then ``getUpdates`` until cancelled; the offset moves on only after the
    batch is in the inbox."""
    bot, cfg = channel.application.bot, channel.config
    backoff = Backoff(1.0, 30.0)
    db_backoff = Backoff(0.5, 5.0)  # the database is back soon after an outage: look often
    offset: int | None = None
    webhook_cleared = False
    while True:
        try:
            if not webhook_cleared:
                await bot.delete_webhook(drop_pending_updates=False)
                webhook_cleared = True
            if channel.poll_permit is not None:
                await channel.poll_permit.wait()  # the poll lease (bot.poll_guard) is held
            channel.updates_request.take()  # (nothing left over from a failed call)
            updates = await bot.get_updates(offset=offset, timeout=cfg.poll_timeout, allowed_updates=allowed_updates)
            received = channel.updates_request.take()  # the same updates as JSON: stored as they came
        except InvalidToken:
            log.error("telegram: the bot token was refused; polling stops")
            return
        except RetryAfter as exc:
            await asyncio.sleep(max(float(exc.retry_after if isinstance(exc.retry_after, int | float)
                                          else exc.retry_after.total_seconds()), backoff.next()))
            continue
        except (Conflict, NetworkError, TelegramError) as exc:
            webhook_cleared = webhook_cleared and not isinstance(exc, Conflict)
            delay = backoff.next()
            log.warning("telegram: polling failed (%s); next try in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            continue
        if not updates:
            continue
        try:
            await channel.accept(updates, received)
        except Exception as exc:  # the database is down: keep the offset, fetch the batch again later
            delay = db_backoff.next()
            log.warning("telegram: could not write %d update(s) down (%s); fetching them again in %.1fs",
                        len(updates), exc, delay)
            await channel.tell_delayed(updates)
            await asyncio.sleep(delay)
            continue
        backoff.reset()
        db_backoff.reset()
        offset = updates[-1].update_id + 1
