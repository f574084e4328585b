"""The Zalo channel (Zalo Bot API, our own aiohttp client): long polling or a webhook, the same
conversations as on Telegram rendered as plain text with numbered choices.

- Polling: ``deleteWebhook`` first, then ``getUpdates`` in a loop (one update per call; None = nothing
  new). 429, 5xx and network errors back off with jitter; nothing but ``stop()`` ends the loop.
- Webhook: ``POST {webhook_path}`` on the project's web server. The ``X-Bot-Api-Secret-Token`` header is
  compared in constant time before the body is read (403 otherwise); the update may come bare or
  wrapped in ``{"ok": true, "result": ...}``; the answer is 200 at once, the work happens after.
- Each update: a small LRU skips obvious redeliveries (the engine de-duplicates on
  ``(channel, message_id)`` as well); messages of one chat are handled one at a time, in order;
  images, stickers and withheld content get a polite fallback without running the engine.
- Replies are retried on 429/5xx; what still cannot be sent goes to the outbox (``reply:zalo:…``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.zalo_client import ZaloBadRequest, ZaloClient, ZaloError, ZaloRetryAfter, ZaloUnauthorized
from bot.channels.zalo_delivery import Backoff, Sender, hand_to_outbox
from bot.channels.zalo_files import FileStore
from bot.channels.zalo_render import Outgoing, render
from bot.channels.zalo_updates import RecentIds, ZaloUpdate, parse_update
from handlers.catalog import t
from handlers.messages import Reply
from models.clock import utcnow

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
STOP_GRACE_SECONDS = 10.0


class ZaloChannel:
    name = "zalo"

    def __init__(self, app: App) -> None:
        self.app = app
        self.cfg = cfg = app.config.zalo
        assert cfg.token is not None
        self.client = ZaloClient(cfg.token.get_secret_value(), cfg.api_base_url, app.http)
        self.sender = Sender(self.client, attempts=cfg.send_attempts, backoff_initial=cfg.backoff_initial,
                             backoff_max=cfg.backoff_max)
        web_cfg = app.config.web
        self.files = FileStore(Path(cfg.files_dir), web_cfg.secret_key.get_secret_value(),
                               web_cfg.public_url or f"http://{web_cfg.host}:{web_cfg.port}", cfg.files_path,
                               ttl_seconds=cfg.file_link_hours * 3600)
        self.files.add_route(app.web_app)
        self.recent = RecentIds()
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None  # polling, or retrying setWebhook
        self._stopping = False
        self.webhook_secret = ""
        self.webhook_url = ""
        if cfg.mode == "webhook":
            base = web_cfg.public_url.rstrip("/") if web_cfg.public_url else None
            self.webhook_url = cfg.webhook_url or (f"{base}{cfg.webhook_path}" if base else "")
            given = cfg.webhook_secret.get_secret_value() if cfg.webhook_secret else ""
            self.webhook_secret = given or secrets.token_urlsafe(32)
            app.web_app.router.add_post(cfg.webhook_path, self.webhook)

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping = False
        web_cfg = self.app.config.web
        if not web_cfg.public_url:
            if self.app.runner is not None and self.app.runner.addresses:
                host, port = self.app.runner.addresses[0][:2]
                self.files.base_url = f"http://{host}:{port}"
            log.warning("zalo: web.public_url is not set; file links point to %s", self.files.base_url)
        if web_cfg.secret_key.get_secret_value() == "dev-only-change-me":
            log.warning("zalo: file links are signed with the default web.secret_key; set $WEB_SECRET_KEY")
        if self.cfg.mode == "webhook":
            await self._set_webhook()
        else:
            self._poller = asyncio.create_task(self._poll(), name="zalo-poll")

    async def stop(self) -> None:
        self._stopping = True
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until every update taken so far is handled (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _set_webhook(self) -> None:
        """Register the webhook; a temporary failure is retried in the background."""
        try:
            await self.client.set_webhook(self.webhook_url, self.webhook_secret)
            log.info("zalo: webhook set to %s", self.webhook_url)
        except (ZaloBadRequest, ZaloUnauthorized) as exc:
            log.error("zalo: setWebhook refused (check zalo.webhook_url, the secret and the token): %s", exc)
        except ZaloError as exc:
            log.warning("zalo: setWebhook failed (%s); retrying in the background", exc)
            self._poller = asyncio.create_task(self._retry_set_webhook(), name="zalo-set-webhook")

    async def _retry_set_webhook(self) -> None:
        backoff = Backoff(self.cfg.backoff_initial, self.cfg.backoff_max)
        while not self._stopping:
            await asyncio.sleep(backoff.next())
            try:
                await self.client.set_webhook(self.webhook_url, self.webhook_secret)
                log.info("zalo: webhook set to %s", self.webhook_url)
                return
            except ZaloError as exc:
                log.warning("zalo: setWebhook failed again: %s", exc)

    # --- polling ---------------------------------------------------------------------------------
    async def _poll(self) -> None:
        backoff = Backoff(self.cfg.backoff_initial, self.cfg.backoff_max)
        webhook_cleared = False
        while not self._stopping:
            try:
                if not webhook_cleared:
                    await self.client.delete_webhook()
                    webhook_cleared = True
                update = await self.client.get_updates(timeout=self.cfg.poll_timeout)
            except ZaloRetryAfter as exc:
                delay = backoff.next(exc.retry_after)
            except ZaloError as exc:
                webhook_cleared = webhook_cleared and not isinstance(exc, ZaloBadRequest)  # a webhook set again?
                delay = backoff.next()
                log.warning("zalo: polling failed (%s); next try in %.1fs", exc, delay)
            except Exception:  # a bug must not end polling either
                delay = backoff.next()
                log.exception("zalo: unexpected error while polling; next try in %.1fs", delay)
            else:
                backoff.reset()
                if update is not None:
                    self.accept(update)
                elif self.cfg.poll_timeout == 0:
                    await asyncio.sleep(self.cfg.backoff_initial)
                continue
            await asyncio.sleep(delay)

    # --- webhook ---------------------------------------------------------------------------------
    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), self.webhook_secret.encode()):
            log.warning("zalo: webhook call with a wrong or missing secret from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        if self._stopping:
            return web.Response(status=503, text="shutting down")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not self.accept(body):
            log.info("zalo: webhook update ignored (unknown event, duplicate or not a private chat)")
        return web.json_response({"ok": True})

    # --- handling updates ------------------------------------------------------------------------
    def accept(self, body: Any) -> bool:
        """Take one update (bare or wrapped); its processing runs in the background. False if skipped."""
        update = parse_update(body)
        if update is None or self._stopping:
            return False
        if update.message_id is not None and not self.recent.add(update.message_id):
            log.info("zalo: message %s delivered again; skipped", update.message_id)
            return False
        self._spawn(self._process(update))
        return True

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, update: ZaloUpdate) -> None:
        lock, users = self._locks.get(update.chat_id, (asyncio.Lock(), 0))
        self._locks[update.chat_id] = (lock, users + 1)
        try:
            async with lock:  # one message of a chat at a time, in arrival order
                await self._handle(update)
        except Exception:
            log.exception("zalo: handling message %s failed", update.message_id)
            if update.message_id:
                self.recent.forget(update.message_id)
        finally:
            lock, users = self._locks[update.chat_id]
            if users <= 1:
                del self._locks[update.chat_id]
            else:
                self._locks[update.chat_id] = (lock, users - 1)

    async def _handle(self, update: ZaloUpdate) -> None:
        if update.fallback_key is not None:
            replies = [Reply(t(update.fallback_key))]
        elif not update.text:
            return
        else:
            typing = asyncio.create_task(self.sender.typing(update.chat_id))
            try:
                replies = await self.app.dialog.handle(update.incoming(self.name))
            except Exception:
                log.exception("zalo: the dialog engine failed on message %s", update.message_id)
                replies = [Reply(t("common.error"))]
                if update.message_id:
                    self.recent.forget(update.message_id)
            finally:
                typing.cancel()
        items: list[Outgoing] = []
        for reply in replies:
            items += await render(reply, self.files, self.app.config.tz, photos=self.cfg.photos)
        await self._deliver(update, items)

    async def _deliver(self, update: ZaloUpdate, items: list[Outgoing]) -> None:
        for index, item in enumerate(items):
            try:
                await self.sender.with_retry(update.chat_id, item)
            except ZaloBadRequest as exc:
                log.error("zalo: a reply part was refused and dropped: %s", exc)
            except ZaloError as exc:
                rest = items[index:]
                queued = await hand_to_outbox(self.app.sessions, update.account_id,
                                              update.message_id or secrets.token_hex(8), rest, utcnow())
                log.warning("zalo: could not send %d reply part(s) now (%s); %d queued in the outbox",
                            len(rest), exc, queued)
                return

    # --- the outbox ------------------------------------------------------------------------------
    async def send(self, external_id: str, reply: Reply) -> None:
        """For the outbox: render and send; raises SendRetryLater / SendRejected / SendError."""
        items = await render(reply, self.files, self.app.config.tz, photos=self.cfg.photos)
        await self.sender.for_outbox(external_id, items)
