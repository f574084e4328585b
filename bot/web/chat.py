"""The web chat channel: a third adapter beside Telegram and Zalo, the same conversations.

The conversation *state* lives in the database (the dialog engine keeps it), so a server restart
strands nobody. The *transcript* shown on the page is kept in memory here, per account, numbered
within this process's ``boot`` id; the page also keeps its own copy in the browser (localStorage),
so after a restart it still shows the conversation where it was, notices the new boot id, and goes
on polling from the start of the new transcript.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from bot.channels.base import Route
from handlers.clean import clean_incoming
from handlers.engine import Engine
from handlers.messages import Attachment, Incoming, IncomingPhoto, Reply
from texts.catalog import t

log = logging.getLogger("bot.web.chat")
TRANSCRIPT_LEN = 200
FILES_KEPT = 100


@dataclass(slots=True)
class ChatMessage:
    seq: int
    sender: str  # "user" | "bot"
    text: str
    choices: list[dict[str, str]] = field(default_factory=list)
    file: dict[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "from": self.sender, "text": self.text, "choices": self.choices,
                "file": self.file}


class WebChatChannel:
    """``send`` stores the message for the page; the page polls ``/chat/api/messages`` every few seconds."""

    name = "web"

    def __init__(self, dialog: Engine) -> None:
        self.dialog = dialog
        self.boot = secrets.token_hex(6)
        self._seq = itertools.count(1)
        self._transcripts: dict[str, deque[ChatMessage]] = {}
        self._files: OrderedDict[str, Attachment] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def start(self) -> None:
        log.info("web chat ready (boot %s)", self.boot)

    async def stop(self) -> None:
        self._locks.clear()

    def routes(self) -> list[Route]:
        return []  # its pages are part of the web server (bot/web/chat_routes.py)

    async def send(self, external_id: str, reply: Reply) -> None:
        """From the outbox: keep the message until the page fetches it."""
        self._add(external_id, "bot", reply)

    def messages(self, external_id: str, since: int = 0) -> list[dict[str, Any]]:
        return [m.as_json() for m in self._transcripts.get(external_id, ()) if m.seq > since]

    def file(self, token: str) -> Attachment | None:
        return self._files.get(token)

    async def handle(self, external_id: str, *, text: str | None, choice: str | None, label: str | None,
                     message_id: str | None, echo: bool = True, photo: IncomingPhoto | None = None) -> None:
        """One message from the page: show it (unless ``echo`` is false), run the engine, show its replies."""
        lock = self._locks.setdefault(external_id, asyncio.Lock())
        async with lock:  # one message at a time per account, in order
            if echo:
                shown = t("web.chat.photo_sent") if photo is not None else (text or "")
                self._add(external_id, "user", Reply(text=(label or choice or "") if choice else shown))
            replies = await self._run_engine(clean_incoming(Incoming(
                channel="web", account_id=external_id, text=text, choice=choice, message_id=message_id,
                photo=photo)))
            for reply in replies:
                self._add(external_id, "bot", reply)

    async def _run_engine(self, incoming: Incoming) -> list[Reply]:
        try:
            return list(await self.dialog.handle(incoming))
        except Exception:
            log.exception("the dialog engine failed on a web chat message")
            return [Reply(text=t("web.chat.error"))]

    def _add(self, external_id: str, sender: str, reply: Reply) -> None:
        file = None
        if reply.attachment is not None:
            token = secrets.token_urlsafe(16)
            self._files[token] = reply.attachment
            while len(self._files) > FILES_KEPT:
                self._files.popitem(last=False)
            file = {"url": f"/chat/files/{token}/{reply.attachment.filename}", "name": reply.attachment.filename,
                    "label": t("web.chat.download", name=reply.attachment.filename)}
        text = reply.text
        if reply.attachment is not None and reply.attachment.caption and not text:
            text = reply.attachment.caption
        message = ChatMessage(seq=next(self._seq), sender=sender, text=text, file=file,
                              choices=[{"value": c.value, "label": c.label} for c in reply.choices])
        self._transcripts.setdefault(external_id, deque(maxlen=TRANSCRIPT_LEN)).append(message)
