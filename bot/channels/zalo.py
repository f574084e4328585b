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
- Each update is written to the inbox (:mod:`bot.pipeline`) before it is acknowledged: before
  the webhook's 200 (503 if the database is down, so Zalo delivers again), and in polling right after
  ``getUpdates`` handed it over (held in memory and written again until the database takes it, with
  no further ``getUpdates`` meanwhile). An update is keyed by its sender and message id (Zalo does not
  promise ids unique across users). A small LRU skips obvious redeliveries (the inbox and the engine
  de-duplicate as well).
- From the inbox the pipeline processes it through the Zalo adapter (:mod:`bot.channels.zalo_adapter`):
  the step, its replies sent and marked, fallbacks for what the bot cannot read.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bot.channels.base import Route
from bot.channels.webhook_body import BadBody, read_json_object
from bot.channels.zalo_adapter import CHANNEL, ZaloAdapter, recent_key
from bot.channels.zalo_client import ZaloBadRequest, ZaloClient, ZaloError, ZaloRetryAfter, ZaloUnauthorized
from bot.channels.zalo_delivery import Sender
from bot.channels.zalo_files import FileStore
from bot.channels.zalo_journal import PollJournal
from bot.channels.zalo_photos import PhotoFetcher
from bot.channels.zalo_render import Outgoing
from bot.channels.zalo_updates import RecentIds, ZaloUpdate, parse_update
from bot.config import WebConfig, ZaloConfig
from bot.pipeline.adapter import RetryPolicy
from bot.pipeline.backoff import Backoff
from bot.pipeline.intake import Intake, Item
from bot.pipeline.pipeline import Pipeline
from handlers.engine import Engine
from handlers.messages import Reply
from models.accounts.access import Accounts

if TYPE_CHECKING:
    from bot.poll_guard import Permit

log = logging.getLogger(__name__)


def inbox_item(update: ZaloUpdate, body: Any) -> Item:
    """Keyed by Zalo's message id within its sender (ids are not promised unique across users; a hash
    of the body when there is none), in the chat's order."""
    key = (recent_key(update) if update.message_id else
           "h" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:40])
    return key, update.chat_id, body if isinstance(body, dict) else {"result": body}

SECRET_HEADER = "X-Bot-Api-Secret-Token"
STOP_GRACE_SECONDS = 10.0
JOURNAL = "zalo-poll-journal.jsonl"  # in zalo.files_dir: updates polled and not yet in the inbox


def derived_webhook_secret(token: str) -> str:
    """The webhook secret when none is configured: the same in every worker, unguessable without the
    token (HMAC-SHA256 of a fixed label under the token), 43 URL-safe characters (Zalo: 8-256)."""
    mac = hmac.new(token.encode("utf-8"), b"zalo-webhook-secret/v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class ZaloChannel:
    name = CHANNEL

    def __init__(self, cfg: ZaloConfig, web_cfg: WebConfig, tz: ZoneInfo, dialog: Engine,
                 http: aiohttp.ClientSession, accounts: Accounts, owner: str | None = None) -> None:
        self.cfg, self.web_cfg, self.tz = cfg, web_cfg, tz
        self.dialog, self.accounts, self.http = dialog, accounts, http
        assert cfg.token is not None
        self.client = ZaloClient(cfg.token.get_secret_value(), cfg.api_base_url, http)
        self.sender = Sender(self.client)
        self.files = FileStore(Path(cfg.files_dir), web_cfg.secret_key.get_secret_value(), web_cfg.base_url,
                               cfg.files_path, ttl_seconds=cfg.file_link_hours * 3600)
        self.recent = RecentIds()
        fetcher = PhotoFetcher(http, cfg.photo_hosts, cfg.photo_ca_file)
        self.adapter = ZaloAdapter(self.sender, self.files, tz, fetcher,
                                   lambda account: accounts.is_bound(CHANNEL, account), self.recent, photos=cfg.photos,
                                   retry=RetryPolicy(cfg.send_attempts, cfg.backoff_initial, cfg.backoff_max))
        self.pipeline: Pipeline[ZaloUpdate, Outgoing] = Pipeline(self.adapter, dialog, accounts, owner=owner)
        self._poller: asyncio.Task[None] | None = None  # polling, or retrying setWebhook
        polling = cfg.mode != "webhook"
        self.journal = PollJournal(Path(cfg.files_dir) / JOURNAL) if polling and cfg.poll_journal else None
        self.poll_permit: Permit | None = None  # polling: set by the composition root (bot.poll_guard)
        self._stopping = False
        self.webhook_secret = ""
        self.webhook_url = ""
        if cfg.mode == "webhook":
            base = web_cfg.public_url.rstrip("/") if web_cfg.public_url else None
            self.webhook_url = cfg.webhook_url or (f"{base}{cfg.webhook_path}" if base else "")
            given = cfg.webhook_secret.get_secret_value() if cfg.webhook_secret else ""
            self.webhook_secret = given or derived_webhook_secret(cfg.token.get_secret_value())

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
        self.pipeline.resume()
        try:
            await self.pipeline.recover()
        except Exception as exc:  # the database is down: what is left waits for the next start
            log.warning("zalo: could not read the inbox at start (%s)", exc)
        if self.cfg.mode == "webhook":
            await self._set_webhook()
        else:
            log.warning("zalo: polling mode. Zalo's getUpdates hands each update out once (no offset): a crash "
                        "between its answer and the write-down loses that message. Use the webhook in "
                        "production (set web.public_url, https, or zalo.mode = \"webhook\").")
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
        await self.pipeline.stop(STOP_GRACE_SECONDS)
        if self.journal is not None:
            self.journal.close()

    @property
    def intake(self) -> Intake:
        return self.pipeline.intake

    async def idle(self) -> None:
        """Wait until every update taken so far is handled (shutdown, tests)."""
        await self.pipeline.idle()

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
        if self.journal is not None:  # what a crash left between getUpdates and the inbox: written first
            left = self.journal.pending()
            if left:
                log.warning("zalo: %d update(s) polled before a crash, not yet in the inbox, go there now", len(left))
            if all([await self._write_down(body, backoff) for body in left]):
                self.journal.clear()
        while not self._stopping:
            try:
                if not webhook_cleared:
                    await self.client.delete_webhook()
                    webhook_cleared = True
                if self.poll_permit is not None:
                    await self.poll_permit.wait()  # the poll lease (bot.poll_guard) is held
                started = time.monotonic()
                update = await self.client.get_updates(timeout=self.cfg.poll_timeout)
                if update is not None and self.journal is not None:
                    self.journal.append(update)  # consumed by Zalo: written down before anything else
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
                    if await self._write_down(update, backoff) and self.journal is not None:
                        self.journal.clear()
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
        if update.message_id is not None and recent_key(update) in self.recent:
            log.info("zalo: message %s delivered again; skipped", update.message_id)
            return False
        await self.pipeline.accept([inbox_item(update, body)])
        if update.message_id is not None:
            self.recent.add(recent_key(update))
        return True

    async def _write_down(self, body: Any, backoff: Backoff) -> bool:
        """Polling: ``getUpdates`` consumed the update; hold it until the inbox has it (False: stopped first)."""
        while True:
            try:
                await self.accept(body, polled=True)
                return True
            except Exception as exc:
                if self._stopping:
                    log.error("zalo: stopping with an update not yet in the inbox (%s); %s", exc,
                              "the poll journal keeps it for the next start" if self.journal is not None else body)
                    return False
                delay = backoff.next()
                log.warning("zalo: could not write an update down (%s); trying again in %.1fs", exc, delay)
                await self._tell_delayed(body)
                await asyncio.sleep(delay)

    async def _tell_delayed(self, body: Any) -> None:
        """The database is down: tell the sender once that the message is kept and will be handled."""
        update = parse_update(body)
        if update is not None:
            await self.pipeline.tell_wait(inbox_item(update, body)[0], update.chat_id, update.account_id)

    # --- the outbox ------------------------------------------------------------------------------
    async def send(self, external_id: str, reply: Reply) -> None:
        """For the outbox: through the pipeline's adapter (:meth:`Pipeline.send`), its send errors."""
        await self.pipeline.send(external_id, reply)
