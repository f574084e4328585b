"""The web chat channel: a third adapter beside Telegram and Zalo, the same conversations.

The conversation *state* lives in the database (the dialog engine keeps it), so a server restart
strands nobody. The *transcript* shown on the page is kept in memory here, per account, numbered
within this process's ``boot`` id; the page also keeps its own copy in the browser (localStorage),
so after a restart it still shows the conversation where it was, notices the new boot id, and goes
on polling from the start of the new transcript.

A message is one step of :meth:`Engine.step_for_web` (its replies shown here, not written to the
outbox: the page is the only place they go). While the database is down the sender is told once to
wait (:mod:`bot.pipeline`'s notice) and the message is held, with the account's later ones behind
it, and tried again with backoff until the database is back; its replies then appear on the page.
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
from bot.pipeline.backoff import Backoff
from handlers.clean import clean_incoming
from handlers.engine import Engine, Transient
from handlers.messages import Attachment, Incoming, IncomingPhoto, Reply
from models.accounts.access import find_account
from models.db import transient
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
        self._held: dict[str, deque[Incoming]] = {}  # by account: messages waiting for the database
        self._retrying: dict[str, asyncio.Task[None]] = {}
        self.retry_initial, self.retry_max = 0.5, 10.0

    async def start(self) -> None:
        log.info("web chat ready (boot %s)", self.boot)

    async def stop(self) -> None:
        for task in self._retrying.values():
            task.cancel()
        await asyncio.gather(*self._retrying.values(), return_exceptions=True)
        self._retrying.clear()
        self._locks.clear()

    def routes(self) -> list[Route]:
        return []  # its pages are part of the web server (bot/web/chat_routes.py)

    async def send(self, external_id: str, reply: Reply) -> None:
        """From the outbox: keep the message until the page fetches it."""
        self._add(external_id, "bot", reply)

    def messages(self, external_id: str, since: int = 0) -> list[dict[str, Any]]:
        return [m.as_json() for m in self._transcripts.get(external_id, ()) if m.seq > since]

    def waiting(self, external_id: str) -> int:
        """How many of the account's messages wait for the database."""
        return len(self._held.get(external_id, ()))

    def file(self, token: str) -> Attachment | None:
        return self._files.get(token)

    async def handle(self, external_id: str, *, text: str | None, choice: str | None, label: str | None,
                     message_id: str | None, echo: bool = True, photo: IncomingPhoto | None = None) -> bool:
        """One message from the page: show it (unless ``echo`` is false), run the engine, show its
        replies. False when the account is unknown (nothing shown, nothing run)."""
        lock = self._locks.setdefault(external_id, asyncio.Lock())
        async with lock:  # one message at a time per account, in order
            incoming = clean_incoming(Incoming(channel="web", account_id=external_id, text=text, choice=choice,
                                               message_id=message_id, photo=photo))
            wait = bool(self._held.get(external_id))  # the account's earlier messages wait: this one too
            if not wait:
                try:
                    if not await self._known(external_id):
                        return False
                except Transient:
                    wait = True
            if echo:
                shown = t("web.chat.photo_sent") if photo is not None else (text or "")
                self._add(external_id, "user", Reply(text=(label or choice or "") if choice else shown))
            if wait:
                self._hold(incoming)
                return True
            replies = await self._run_engine(incoming)
            if replies is None:
                self._hold(incoming)
                return True
            for reply in replies:
                self._add(external_id, "bot", reply)
            return True

    async def _known(self, external_id: str) -> bool:
        try:
            async with self.dialog.sessions() as session:
                return await find_account(session, "web", external_id) is not None
        except Exception as exc:
            if transient(exc):
                raise Transient(str(exc)) from exc
            raise

    def _hold(self, incoming: Incoming) -> None:
        """The database is down: tell the sender (once per message), keep the message, try again later."""
        self._add(incoming.account_id, "bot", Reply(t("intake.delayed")))
        self._held.setdefault(incoming.account_id, deque()).append(incoming)
        if incoming.account_id not in self._retrying:
            self._retrying[incoming.account_id] = asyncio.create_task(self._retry(incoming.account_id),
                                                                      name=f"web-chat-held-{incoming.account_id}")

    async def _retry(self, external_id: str) -> None:
        held, backoff = self._held[external_id], Backoff(self.retry_initial, self.retry_max)
        lock = self._locks.setdefault(external_id, asyncio.Lock())
        try:
            while held:
                await asyncio.sleep(backoff.next())
                async with lock:
                    while held:
                        try:
                            if not await self._known(external_id):
                                held.clear()
                                break
                        except Transient:
                            break
                        replies = await self._run_engine(held[0])
                        if replies is None:
                            break
                        held.popleft()
                        for reply in replies:
                            self._add(external_id, "bot", reply)
        finally:
            self._retrying.pop(external_id, None)
            if not held:
                self._held.pop(external_id, None)

    async def _run_engine(self, incoming: Incoming) -> list[Reply] | None:
        """The step's replies; None when the database is down (nothing was saved)."""
        try:
            return list(await self.dialog.step_for_web(incoming))
        except Transient:
            return None
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
