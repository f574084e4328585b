"""The Zalo channel (Zalo Bot API, our own aiohttp client): long polling or a webhook, the same
conversations as on Telegram rendered as plain text with numbered choices.

- Polling (Zalo calls it a development mode; prefer the webhook in production): ``deleteWebhook``
  first, then ``getUpdates`` in a loop (one update per call; None = nothing new, and an empty answer
  that came back early is followed by a pause, so it cannot spin). 429, 5xx and network errors back
  off with jitter; nothing but ``stop()`` ends the loop.
- Webhook: ``POST {webhook_path}`` on the project's web server. The ``X-Bot-Api-Secret-Token`` header is
  compared in constant time before the body is read (403 otherwise); the update may come bare or
  wrapped in ``{"ok": true, "result": ...}``; the answer is 200 at once, the work happens after. Any
  body that is no update (Zalo's empty probe, not JSON, nested too deep) gets 200 and a log line.
  Without ``zalo.webhook_secret`` the secret is derived from the token, so every worker agrees.
- A chat Zalo calls invalid (``410``) is marked blocked; its replies are dropped, not queued.
- Each update is written to the inbox (:class:`bot.intake.Intake`) before it is acknowledged: before
  the webhook's 200 (503 if the database is down, so Zalo delivers again), and in polling right after
  ``getUpdates`` handed it over (held in memory and written again until the database takes it, with
  no further ``getUpdates`` meanwhile). Processing reads from there, one chat's messages at a time, in
  order; what a crash left is processed at start. A small LRU skips obvious redeliveries (the inbox
  and the engine de-duplicate on the message id as well); images, stickers and withheld content get a
  polite fallback without running the engine.
- The engine's replies are outbox rows written with the step: sent at once (retried on 429/5xx) and
  marked sent; what cannot be sent now is left to the drain. The "cannot read this" fallback is said at
  most once per chat every few minutes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bot.channels.base import Route
from bot.channels.webhook_body import BadBody, read_json_object
from bot.channels.zalo_client import (
    ZaloBadRequest,
    ZaloChatGone,
    ZaloClient,
    ZaloError,
    ZaloRetryAfter,
    ZaloUnauthorized,
)
from bot.channels.zalo_delivery import Backoff, Sender
from bot.channels.zalo_files import FileStore
from bot.channels.zalo_render import Outgoing, render
from bot.channels.zalo_updates import UNKNOWN_FALLBACK, RecentIds, ZaloUpdate, parse_update
from bot.config import WebConfig, ZaloConfig
from bot.intake import MARKED, Intake, Item
from bot.settle import Settle, finish
from handlers.engine import Engine, Sendable, Transient
from handlers.messages import IncomingPhoto, Reply
from models.accounts.access import Accounts
from models.clock import utcnow
from models.delivery.inbox import Pending
from models.photos.store import MAX_PHOTO_BYTES
from texts.catalog import t

log = logging.getLogger(__name__)


def inbox_item(update: ZaloUpdate, body: Any) -> Item:
    """Keyed by Zalo's message id (a hash of the body when there is none), in the chat's order."""
    key = update.message_id or "h" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:40]
    return key, update.chat_id, body if isinstance(body, dict) else {"result": body}

SECRET_HEADER = "X-Bot-Api-Secret-Token"
STOP_GRACE_SECONDS = 10.0
UNSUPPORTED_EVERY_SECONDS = 300.0  # the "cannot read this" answer, at most this often per chat


def derived_webhook_secret(token: str) -> str:
    """The webhook secret when none is configured: the same in every worker, unguessable without the
    token (HMAC-SHA256 of a fixed label under the token), 43 URL-safe characters (Zalo: 8-256)."""
    mac = hmac.new(token.encode("utf-8"), b"zalo-webhook-secret/v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class ZaloChannel:
    name = "zalo"

    def __init__(self, cfg: ZaloConfig, web_cfg: WebConfig, tz: ZoneInfo, dialog: Engine,
                 http: aiohttp.ClientSession, accounts: Accounts) -> None:
        self.cfg, self.web_cfg, self.tz = cfg, web_cfg, tz
        self.dialog, self.accounts, self.http = dialog, accounts, http
        assert cfg.token is not None
        self.client = ZaloClient(cfg.token.get_secret_value(), cfg.api_base_url, http)
        self.sender = Sender(self.client, attempts=cfg.send_attempts, backoff_initial=cfg.backoff_initial,
                             backoff_max=cfg.backoff_max)
        self.files = FileStore(Path(cfg.files_dir), web_cfg.secret_key.get_secret_value(), web_cfg.base_url,
                               cfg.files_path, ttl_seconds=cfg.file_link_hours * 3600)
        self.recent = RecentIds()
        self.intake = Intake(accounts.sessions, self.name, self._process)
        self.settle = Settle(accounts.sessions)
        self._told: set[str] = set()  # inbox keys whose sender was told to wait (database down)
        self._poller: asyncio.Task[None] | None = None  # polling, or retrying setWebhook
        self._stopping = False
        self.webhook_secret = ""
        self.webhook_url = ""
        if cfg.mode == "webhook":
            base = web_cfg.public_url.rstrip("/") if web_cfg.public_url else None
            self.webhook_url = cfg.webhook_url or (f"{base}{cfg.webhook_path}" if base else "")
            given = cfg.webhook_secret.get_secret_value() if cfg.webhook_secret else ""
            self.webhook_secret = given or derived_webhook_secret(cfg.token.get_secret_value())
        self._unsupported_said: dict[str, float] = {}  # chat -> when the fallback was last sent

    def routes(self) -> list[Route]:
        """File links, and the webhook in webhook mode (the composition root adds them)."""
        out: list[Route] = [("GET", self.files.prefix + "/{token}", self.files.handle)]
        if self.cfg.mode == "webhook":
            out.append(("POST", self.cfg.webhook_path, self.webhook))
        return out

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping = False
        web_cfg = self.web_cfg
        if not web_cfg.public_url:
            log.warning("zalo: web.public_url is not set; file links point to %s", self.files.base_url)
        if web_cfg.secret_key.get_secret_value() == "dev-only-change-me":
            log.warning("zalo: file links are signed with the default web.secret_key; set $WEB_SECRET_KEY")
        self.intake.stopping = False
        try:
            await self.intake.recover()
        except Exception as exc:  # the database is down: what is left waits for the next start
            log.warning("zalo: could not read the inbox at start (%s)", exc)
        if self.cfg.mode == "webhook":
            await self._set_webhook()
        else:
            self._poller = asyncio.create_task(self._poll(), name="zalo-poll")

    async def stop(self) -> None:
        self._stopping = True
        if self._poller is not None:
            if self.cfg.mode != "webhook":  # (a webhook's poller only retries setWebhook: cut at once)
                # getUpdates has no offset: an update it hands out is consumed. A poll cut off while its
                # answer is on its way would drop that update, so the poll in flight ends by itself (at
                # most poll_timeout) and what it brings is written down; only what outlives that is cut.
                await asyncio.wait({self._poller}, timeout=self.cfg.poll_timeout + STOP_GRACE_SECONDS)
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.intake.stop(STOP_GRACE_SECONDS)

    async def idle(self) -> None:
        """Wait until every update taken so far is handled (shutdown, tests)."""
        await self.intake.idle()

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
                started = time.monotonic()
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
                    await self._write_down(update, backoff)
                elif time.monotonic() - started < self.cfg.poll_timeout or self.cfg.poll_timeout == 0:
                    await asyncio.sleep(self.cfg.backoff_initial)  # an early empty answer: do not spin
                continue
            if not self._stopping:
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
            body = await read_json_object(request)
        except BadBody as exc:  # Zalo probes a new webhook with an empty body; anything else: logged
            log.info("zalo: webhook body ignored (%s)", exc)
            return web.json_response({"ok": True})
        try:
            if not await self.accept(body):
                log.info("zalo: webhook update ignored (unknown event, duplicate or not a private chat)")
        except Exception as exc:
            log.warning("zalo: could not write a webhook update down (%s); Zalo will retry", exc)
            await self._tell_delayed(body)
            return web.Response(status=503, text="try again")
        return web.json_response({"ok": True})

    # --- handling updates ------------------------------------------------------------------------
    async def accept(self, body: Any, *, polled: bool = False) -> bool:
        """Write one update (bare or wrapped) to the inbox; its processing runs in the background.
        False if skipped; raises when it could not be written (do not acknowledge it then). A polled
        update is taken even while stopping: getUpdates has consumed it."""
        update = parse_update(body)
        if update is None or (self._stopping and not polled):
            return False
        if update.message_id is not None and update.message_id in self.recent:
            log.info("zalo: message %s delivered again; skipped", update.message_id)
            return False
        await self.intake.accept([inbox_item(update, body)])
        if update.message_id is not None:
            self.recent.add(update.message_id)
        return True

    async def _write_down(self, body: Any, backoff: Backoff) -> None:
        """Polling: ``getUpdates`` consumed the update; hold it until the inbox has it."""
        while True:
            try:
                await self.accept(body, polled=True)
                return
            except Exception as exc:
                if self._stopping:
                    log.error("zalo: stopping with an update consumed but not written down (%s): %s", exc, body)
                    return
                delay = backoff.next()
                log.warning("zalo: could not write an update down (%s); trying again in %.1fs", exc, delay)
                await self._tell_delayed(body)
                await asyncio.sleep(delay)

    async def _tell_delayed(self, body: Any) -> None:
        """The database is down: tell the sender once that the message is kept and will be handled."""
        update = parse_update(body)
        if update is None:
            return
        key = inbox_item(update, body)[0]
        if key in self._told:
            return
        self._told.add(key)
        try:
            await self._deliver(update, [Sendable(Reply(t("intake.delayed")), None)])
        except Exception as exc:  # the notice is a courtesy
            log.info("zalo: could not tell chat %s to wait: %s", update.chat_id, exc)

    async def _process(self, row: Pending) -> bool | str:
        """One inbox row; False when the database was unreachable (tried again later)."""
        update = parse_update(row.payload)
        if update is None:
            return True
        try:
            return await self._handle(update, row.key)
        except Exception:
            log.exception("zalo: handling message %s failed", update.message_id)
            if update.message_id:
                self.recent.forget(update.message_id)
            return True

    def _fallback_due(self, update: ZaloUpdate) -> bool:
        """The "cannot read this" answer at most once per chat per few minutes (the others always)."""
        if update.fallback_key != UNKNOWN_FALLBACK:
            return True
        now = time.monotonic()
        last = self._unsupported_said.get(update.chat_id)
        if last is not None and now - last < UNSUPPORTED_EVERY_SECONDS:
            return False
        if len(self._unsupported_said) > 10_000:
            self._unsupported_said.clear()
        self._unsupported_said[update.chat_id] = now
        return True

    async def _handle(self, update: ZaloUpdate, key: str) -> bool | str:
        """True when handled; MARKED when the dialog step also marked the inbox row done; False: again later."""
        marked = False
        if update.fallback_key is not None:
            if not self._fallback_due(update):
                return True
            replies = [Sendable(Reply(t(update.fallback_key)), None)]
        elif not update.text and not update.photo_url:
            return True
        else:
            typing = asyncio.create_task(self.sender.typing(update.chat_id))
            try:
                incoming = update.incoming(self.name)
                if update.photo_url:  # fetched here, after the inbox has the update: nothing is lost if it fails
                    incoming = replace(incoming, photo=await self._fetch_photo(update.photo_url))
                replies = await self.dialog.handle_durable(replace(incoming, message_id=key))
                marked = True
            except Transient:
                if key not in self._told:
                    self._told.add(key)
                    await self._deliver(update, [Sendable(Reply(t("intake.delayed")), None)])
                return False
            except Exception:
                log.exception("zalo: the dialog engine failed on message %s", update.message_id)
                replies = [Sendable(Reply(t("common.error")), None)]
                if update.message_id:
                    self.recent.forget(update.message_id)
            finally:
                typing.cancel()
        self._told.discard(key)
        await self._deliver(update, replies)
        return MARKED if marked else True

    async def _deliver(self, update: ZaloUpdate, replies: list[Sendable]) -> None:
        """Each reply, then the mark of its outbox row (one unit a stop does not cut)."""
        for index, item in enumerate(replies):
            parts = await render(item.reply, self.files, self.tz, photos=self.cfg.photos)
            if not await finish(self._send_row(update, parts, item)):
                await self.settle.release([r.row for r in replies[index + 1:] if r.row is not None])
                return

    async def _fetch_photo(self, url: str) -> IncomingPhoto:
        """The image behind ``photo_url``, at most ``MAX_PHOTO_BYTES``; an error instead of raising."""
        try:
            async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=60)) as resp:
                if resp.status != 200:
                    log.info("zalo: photo download answered %s", resp.status)
                    return IncomingPhoto(error="download_failed")
                data = await resp.content.read(MAX_PHOTO_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("zalo: photo download failed: %s", exc)
            return IncomingPhoto(error="download_failed")
        return IncomingPhoto(error="too_large") if len(data) > MAX_PHOTO_BYTES else IncomingPhoto(content=data)

    async def _send_row(self, update: ZaloUpdate, parts: list[Outgoing], item: Sendable) -> bool:
        for index, part in enumerate(parts):
            try:
                await self.sender.with_retry(update.chat_id, part)
            except ZaloBadRequest as exc:
                log.error("zalo: a reply part was refused and dropped: %s", exc)
            except ZaloChatGone as exc:
                log.info("zalo: chat %s is gone (%s); marked, its replies dropped", update.chat_id, exc)
                await self.accounts.mark_blocked("zalo", update.account_id)
                if item.row is not None:
                    await self.settle.blocked(item.row, str(exc))
                return False
            except ZaloError as exc:
                if not (exc.retryable or isinstance(exc, ZaloUnauthorized)):
                    log.error("zalo: a reply part was refused for good and dropped: %s", exc)
                    continue
                log.warning("zalo: could not send a reply now (%s); left to the outbox", exc)
                if item.row is not None:
                    await self.settle.retry_later(item.row, str(exc), counted=False)  # due now for the drain
                else:
                    key = f"reply:zalo:{update.message_id or secrets.token_hex(8)}"
                    await self.accounts.queue_replies("zalo", update.account_id, key,
                                                      [p.text for p in parts[index:]], utcnow())
                return False
        if item.row is not None:
            await self.settle.sent(item.row)
        return True

    # --- the outbox ------------------------------------------------------------------------------
    async def send(self, external_id: str, reply: Reply) -> None:
        """For the outbox: render and send; raises SendRetryLater / SendRejected / SendError."""
        items = await render(reply, self.files, self.tz, photos=self.cfg.photos)
        await self.sender.for_outbox(external_id, items)
