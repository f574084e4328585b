"""Rendering a neutral :class:`Reply` as Telegram messages (pure: no I/O, no bot).

- Choices become an inline keyboard (``callback_data`` = the choice's value); typing an answer stays
  possible, the engine matches numbers and labels too. A value longer than Telegram's 64 bytes of
  callback data falls back to a one-time reply keyboard of labels.
- ``ask_phone`` becomes a one-time reply keyboard whose first button shares the user's own number
  (choices, if any, are added below it as label buttons).
- Consecutive replies are joined into one message where the first has no keyboard or file.
- Texts longer than 4,096 characters are split at paragraph, line or word boundaries; the keyboard
  goes on the last part. An attachment becomes a document, captioned with the text when it fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from handlers.messages import Attachment, Choice, Reply
from texts.catalog import t

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
ROW_CHARS = 30  # labels per keyboard row, roughly what fits on a phone
ROW_BUTTONS = 3

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Bot API message: a text (sendMessage) or a document with an optional caption (sendDocument)."""

    text: str | None
    markup: Markup | None = None
    document: Attachment | None = None


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most ``limit`` characters, cut at a blank line, a line end or a space if possible."""
    parts: list[str] = []
    rest = text.strip()
    while tg_len(rest) > limit:
        window = rest[:limit]
        while tg_len(window) > limit:  # astral characters count twice
            window = window[:-1]
        cut = next((i for sep in ("\n\n", "\n", " ") if (i := window.rfind(sep)) >= len(window) // 2),
                   len(window))
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def rows(labels: list[str]) -> list[list[str]]:
    """Pack labels into keyboard rows, in order: at most three a row, and since the buttons of a row
    share its width equally, the longest label times the buttons at most about 30 characters."""
    out: list[list[str]] = []
    for label in labels:
        row = out[-1] if out else []
        if row and len(row) < ROW_BUTTONS and max(map(len, [*row, label])) * (len(row) + 1) <= ROW_CHARS:
            row.append(label)
        else:
            out.append([label])
    return out


def fits_callback(choices: list[Choice]) -> bool:
    return all(0 < len(c.value.encode()) <= CALLBACK_DATA_LIMIT for c in choices)


def inline_keyboard(choices: list[Choice]) -> InlineKeyboardMarkup:
    by_label = {c.label: c.value for c in choices}
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=by_label[label]) for label in row]
                                 for row in rows([c.label for c in choices])])


def reply_keyboard(choices: list[Choice], ask_phone: bool) -> ReplyKeyboardMarkup:
    buttons: list[list[KeyboardButton]] = []
    if ask_phone:
        buttons.append([KeyboardButton(t("telegram.share_phone"), request_contact=True)])
    buttons += [[KeyboardButton(label) for label in row] for row in rows([c.label for c in choices])]
    return ReplyKeyboardMarkup(buttons, resize_keyboard=True, one_time_keyboard=True)


def keyboard(reply: Reply, remove_keyboard: bool = False) -> Markup | None:
    if reply.ask_phone or (reply.choices and not fits_callback(reply.choices)):
        return reply_keyboard(reply.choices, reply.ask_phone)
    if reply.choices:
        if len({c.label for c in reply.choices}) < len(reply.choices):  # same label twice: keep both
            return InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=c.value)]
                                         for c in reply.choices])
        return inline_keyboard(reply.choices)
    return ReplyKeyboardRemove() if remove_keyboard else None


def render(reply: Reply, remove_keyboard: bool = False) -> list[Outgoing]:
    """The messages that show ``reply``; the keyboard rides on the last one."""
    markup = keyboard(reply, remove_keyboard)
    texts = split_text(reply.text)
    if reply.attachment is None:
        if not texts and markup is None:
            return []
        texts = texts or ["…"]
        return [Outgoing(text) for text in texts[:-1]] + [Outgoing(texts[-1], markup)]
    caption = reply.attachment.caption
    if caption is None and len(texts) == 1 and tg_len(texts[0]) <= CAPTION_LIMIT:
        caption, texts = texts[0], []
    if caption is not None and tg_len(caption) > CAPTION_LIMIT:
        caption = split_text(caption, CAPTION_LIMIT - 1)[0] + "…"
    return [Outgoing(text) for text in texts] + [Outgoing(caption, markup, reply.attachment)]


def coalesce(replies: list[Reply]) -> list[Reply]:
    """Join a plain text reply onto the next one (one message instead of two: fewer requests, less
    pressure on the one-message-a-second-per-chat limit), as long as the result fits one message."""
    out: list[Reply] = []
    for reply in replies:
        last = out[-1] if out else None
        if (last is not None and not (last.choices or last.attachment or last.ask_phone) and reply.attachment is None
                and tg_len(last.text) + tg_len(reply.text) + 2 <= TEXT_LIMIT):
            out[-1] = Reply(last.text + "\n\n" + reply.text, choices=reply.choices, ask_phone=reply.ask_phone,
                            free_text=reply.free_text)
        else:
            out.append(reply)
    return out


def chosen_label(markup: InlineKeyboardMarkup | None, data: str | None) -> str | None:
    """The label of the inline button whose callback data is ``data``."""
    if markup is None or data is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
