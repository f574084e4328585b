"""A neutral :class:`Reply` rendered for Zalo: plain text, choices as a numbered list with a hint
line, split under 2,000 characters on line boundaries, an attachment as a signed link, and an image
also as a photo — only when the link is public https: Zalo fetches the photo itself and refuses a
loopback or private address, so without ``web.public_url`` the link text goes instead.
The user answers by number, label, or label without diacritics —
``handlers.flow.choose`` already accepts all three, so nothing more is needed on the way in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.channels.zalo_client import TEXT_LIMIT, split_text
from bot.channels.zalo_files import FileStore
from handlers.messages import Choice, Reply
from texts.catalog import t
from texts.fmt import fmt_time_date

PHOTO_TYPES = frozenset({"image/png", "image/jpeg"})
LISTED_NUMBERS = 5  # up to this many choices the hint names each number; beyond, a range


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Zalo message: a text, or a photo by URL (``text`` is then sent instead if it is refused)."""

    text: str
    photo: str | None = None
    caption: str | None = None


def public_https(url: str) -> bool:
    """Could Zalo's servers fetch ``url``? https, and a DNS name or a global IP address."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or host == "localhost" or host.endswith((".localhost", ".local")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host


def choice_hint(count: int) -> str:
    if count <= 1:
        return t("zalo.choices.hint_one")
    if count == 2:
        return t("zalo.choices.hint_two")
    if count <= LISTED_NUMBERS:
        return t("zalo.choices.hint_list", numbers=", ".join(str(n) for n in range(1, count)), last=count)
    return t("zalo.choices.hint_range", last=count)


def numbered(choices: Sequence[Choice]) -> str:
    items = [t("zalo.choices.item", number=n, label=c.label) for n, c in enumerate(choices, 1)]
    return "\n".join([*items, choice_hint(len(choices))])


def reply_text(reply: Reply) -> str:
    """The reply's text with its choices, if any, as a numbered list (not yet split)."""
    text = reply.text.strip()
    if not text and reply.attachment is not None and not reply.choices:
        return ""
    if reply.choices:
        text = f"{text}\n\n{numbered(reply.choices)}" if text else numbered(reply.choices)
    return text


def texts(reply: Reply, limit: int = TEXT_LIMIT) -> list[Outgoing]:
    return [Outgoing(part) for part in split_text(reply_text(reply), limit)]


async def render(reply: Reply, files: FileStore, tz: ZoneInfo, *, photos: bool = True,
                 limit: int = TEXT_LIMIT) -> list[Outgoing]:
    """Everything to send for ``reply``, in order. Stores the attachment, if any."""
    out = texts(reply, limit)
    attachment = reply.attachment
    if attachment is None:
        return out
    stored = await files.save(attachment)
    expires = fmt_time_date(stored.expires, tz)
    link_text = t("zalo.file.ready", filename=attachment.filename, url=stored.url, expires=expires)
    if attachment.caption and attachment.caption.strip() not in reply.text:
        link_text = f"{attachment.caption.strip()}\n{link_text}"
    if photos and attachment.mime_type in PHOTO_TYPES and public_https(stored.url):
        fallback = t("zalo.file.ready", filename=attachment.filename, url=stored.url, expires=expires)
        caption = (attachment.caption or "").strip()[:limit] or None
        out.append(Outgoing(fallback, photo=stored.url, caption=caption))
    else:
        out.extend(Outgoing(part) for part in split_text(link_text, limit))
    return out
