"""A stand-in Zalo Bot API server for tests (aiohttp on 127.0.0.1, free port), as strict as the real
API is documented and observed (``tests/data/zalo-bot-api/NOTES.md``, copied from the team's Zalo Bot
API notes): ``POST {base_url}/bot{token}/{method}`` with a JSON body, string ids, dates in ms.

What it refuses or does the way Zalo does:
- Errors come back as **HTTP 200** ``{"ok": false, "error_code": N, "description": ...}``, the
  envelope decides (``FakeZalo(http_errors=True)`` answers HTTP status = error_code instead, as a
  proxy might). An empty getUpdates is ``ok:false`` 408; ``empty_ok_polls(n)`` answers the next n
  polls with a bare ``{"ok": true}`` (possible in principle, per the notes).
- A chat the bot never heard from (or that ``gone()`` removed) gets ``410 "The chat_id is invaild"``;
  a chat becomes known when one of its messages is pushed, or with ``know(chat_id)``.
- ``sendPhoto`` takes a public https URL only: loopback, private and ``http://`` URLs are refused.
- ``sendChatAction`` answers ``{"ok": true}`` with no ``result``.
- Images carry ``photo_url`` (``message_type: CHAT_PHOTO``, maybe ``caption: ""``), stickers ``url``
  (``CHAT_STICKER``), voice messages ``voice_url`` (``message.voice.received``, ``CHAT_VOICE``).
- getUpdates while a webhook is set answers error_code 400 ("webhook is active ...").
- Text and caption length (1-2000) is counted in Python characters (code points), not normalised.
- ``fail_next(method, 502, html=True)`` answers a non-JSON gateway page, as a proxy would.
- The rate-limit 429 carries no retry hint (Zalo publishes none).
- ``deliver_webhook(..., raw=b"")`` posts a raw body (Zalo probes a new webhook with an empty one).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakes._base import NO_RESULT, ApiError, FakeServer

TEXT_LIMIT = 2000
CHAT_GONE = "The chat_id is invaild"  # sic, as Zalo spells it
_DESCRIPTIONS = {400: "Bad request", 401: "Unauthorized", 403: "Internal error", 404: "Not found",
                 408: "Request timeout", 429: "Quota exceeded", 500: "Internal server error",
                 502: "Bad gateway", 503: "Service unavailable"}


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return secrets.token_hex(10)  # opaque 20-hex-digit string, like Zalo's ids


class FakeZalo(FakeServer):
    send_methods = frozenset({"sendMessage", "sendPhoto", "sendSticker", "sendChatAction"})

    def __init__(self, token: str | None = None, *, http_errors: bool = False, bot_id: str = "1459232241454"):
        super().__init__(token)
        self.http_errors = http_errors
        self.bot = {"id": bot_id, "account_name": "bot.TestBot", "account_type": "BASIC",
                    "can_join_groups": False}
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []  # {method, chat_id, message_id, date, text|photo|sticker...}
        self.actions: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {"url": "", "updated_at": now_ms()}
        self.webhook_secret: str | None = None
        self.chats: set[str] = set()  # chats that wrote to the bot: the only ones it may write to
        self._empty_ok = 0
        self.handlers = {
            "getMe": self._get_me, "getUpdates": self._get_updates, "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message, "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker, "sendChatAction": self._send_chat_action,
        }

    @property
    def base_url(self) -> str:
        return self.root_url

    # --- test helpers ----------------------------------------------------------------------------
    def fail_next(self, method: str, error_code: int = 429, description: str | None = None, *,
                  html: bool = False, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with an error; ``html`` = non-JSON body."""
        text = description or _DESCRIPTIONS.get(error_code, "Error")
        for _ in range(times):
            error = ApiError(error_code, text, html=True) if html else ApiError(error_code, text)
            self._failures[method].append(error)

    def rate_limited(self, retry_after: float) -> ApiError:
        return ApiError(429, _DESCRIPTIONS[429])

    def know(self, chat_id: str) -> None:
        """Let the bot write to ``chat_id`` as if that user had written first."""
        self.chats.add(str(chat_id))

    def gone(self, chat_id: str) -> None:
        """The user is gone (or the id was never valid): sends to it answer 410."""
        self.chats.discard(str(chat_id))

    def empty_ok_polls(self, n: int = 1) -> None:
        """Answer the next ``n`` getUpdates at once with a bare ``{"ok": true}``."""
        self._empty_ok += n

    def push_event(self, update: dict[str, Any]) -> dict[str, Any]:
        message = update.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            self.know(str(message["chat"].get("id")))
        self.updates.append(update)
        self._notify()
        return update

    def message(self, user_id: str, display_name: str | None = None, **content: Any) -> dict[str, Any]:
        user_id = str(user_id)
        return {"from": {"id": user_id, "display_name": display_name or f"User {user_id}", "is_bot": False},
                "chat": {"id": user_id, "chat_type": "PRIVATE"}, "message_id": new_id(), "date": now_ms(),
                **content}

    def push_text(self, user_id: str, text: str, event_name: str = "message.text.received",
                  display_name: str | None = None) -> dict[str, Any]:
        message = self.message(user_id, display_name, text=text)
        return self.push_event({"event_name": event_name, "message": message})

    def push_image(self, user_id: str, url: str, caption: str = "") -> dict[str, Any]:
        """An image message as Zalo sends it: ``photo_url``, ``caption`` and ``message_type: "CHAT_PHOTO"``."""
        message = self.message(user_id, photo_url=url, caption=caption, message_type="CHAT_PHOTO")
        return self.push_event({"event_name": "message.image.received", "message": message})

    def serve_photo(self, name: str, content: bytes, host: str = "localhost") -> str:
        """Serve ``content`` (as Zalo's CDN serves a photo) and return its URL for ``push_image``: https
        on ``host`` when the fake has ``tls`` (Zalo's CDN is https), else plain http on 127.0.0.1."""
        self.served[f"photos/{name}"] = content
        root = f"https://{host}:{self.tls_port}" if self.tls is not None else self.root_url
        return f"{root}/file/bot{self.token or 'x'}/photos/{name}"

    def push_sticker(self, user_id: str, sticker: str = "0e078a2fb66a5f34067b") -> dict[str, Any]:
        message = self.message(user_id, sticker=sticker, url=f"https://zalo-api.zadn.vn/sticker/{sticker}",
                               message_type="CHAT_STICKER")
        return self.push_event({"event_name": "message.sticker.received", "message": message})

    def push_voice(self, user_id: str, url: str = "https://voice.zadn.vn/v/abc.aac") -> dict[str, Any]:
        message = self.message(user_id, voice_url=url, message_type="CHAT_VOICE")
        return self.push_event({"event_name": "message.voice.received", "message": message})

    def push_unsupported(self, user_id: str) -> dict[str, Any]:
        message = self.message(user_id)
        return self.push_event({"event_name": "message.unsupported.received", "message": message})

    def sent_to(self, chat_id: str) -> list[str]:
        """Texts sent to ``chat_id`` with sendMessage."""
        return [s["text"] for s in self.sent if s["chat_id"] == str(chat_id) and s["method"] == "sendMessage"]

    async def deliver_webhook(self, url: str, secret: str | None, update: dict[str, Any] | None = None,
                              wrapped: bool = False, session: aiohttp.ClientSession | None = None,
                              raw: bytes | None = None) -> tuple[int, str]:
        """POST ``update`` (or the bytes ``raw``) to a webhook as Zalo does; returns (status, body text)."""
        headers = {"X-Bot-Api-Secret-Token": secret} if secret is not None else {}
        message = update.get("message") if isinstance(update, dict) else None
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            self.know(str(message["chat"].get("id")))  # the user wrote: the bot may answer
        body = {"ok": True, "result": update} if wrapped else update
        data = raw if raw is not None else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        own = session is None
        session = session or aiohttp.ClientSession()
        try:
            async with session.post(url, data=data, headers=headers) as response:
                return response.status, await response.text()
        finally:
            if own:
                await session.close()

    # --- protocol --------------------------------------------------------------------------------
    async def parse_params(self, request: web.Request, method: str) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(400, "Bad request: body is not JSON") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "Bad request: body is not a JSON object")
        return body

    def error_response(self, error: ApiError) -> web.Response:
        if error.extra.get("html"):
            return web.Response(status=error.code, text="<html><body>Gateway error</body></html>",
                                content_type="text/html")
        body = {"ok": False, "error_code": error.code, "description": error.description}
        return web.json_response(body, status=error.code if self.http_errors else 200)

    def _chat_id(self, params: dict[str, Any]) -> str:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            raise ApiError(400, "Bad request: chat_id must be a non-empty string")
        if chat_id not in self.chats:
            raise ApiError(410, CHAT_GONE)
        return chat_id

    @staticmethod
    def _public_https(url: Any) -> bool:
        """Zalo fetches the URL itself: https, and not a loopback, private or link-local address."""
        if not isinstance(url, str):
            return False
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or not host or host == "localhost" or host.endswith(".localhost"):
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return "." in host  # a DNS name
        return address.is_global

    @staticmethod
    def _check_text(value: Any, name: str, required: bool = True) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str) or not 1 <= len(value) <= TEXT_LIMIT:
            raise ApiError(400, f"Bad request: {name} must be 1-{TEXT_LIMIT} characters")

    def _record(self, method: str, chat_id: str, **content: Any) -> dict[str, Any]:
        result = {"message_id": new_id(), "date": now_ms()}
        self.sent.append({"method": method, "chat_id": chat_id, **result, **content})
        return result

    # --- methods ---------------------------------------------------------------------------------
    async def _get_me(self, params: dict[str, Any]) -> Any:
        return self.bot

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook["url"]:
            raise ApiError(400, "Bad request: webhook is active, call deleteWebhook before getUpdates")
        try:
            timeout = float(params.get("timeout", "30"))
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "Bad request: timeout must be a number of seconds") from exc
        deadline = time.monotonic() + timeout
        while not self.updates and not self._closing and (left := deadline - time.monotonic()) > 0:
            await self._wait_change(left)
        if self._empty_ok:
            self._empty_ok -= 1
            return NO_RESULT
        if not self.updates:
            raise ApiError(408, "Request timeout")
        return self.updates.pop(0)

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        url, secret = params.get("url"), params.get("secret_token")
        if not self._public_https(url):
            raise ApiError(400, "Bad request: url must be a public HTTPS URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise ApiError(400, "Bad request: secret_token must be 8-256 characters")
        self.webhook = {"url": url, "updated_at": now_ms()}
        self.webhook_secret = secret
        return dict(self.webhook)

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": "", "updated_at": now_ms()}
        self.webhook_secret = None
        return dict(self.webhook)

    async def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        return dict(self.webhook)

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        self._check_text(params.get("text"), "text")
        return self._record("sendMessage", chat_id, text=params["text"])

    async def _send_photo(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        photo = params.get("photo")
        if not self._public_https(photo):
            raise ApiError(400, "Bad request: photo must be a public HTTPS image URL")
        self._check_text(params.get("caption"), "caption", required=False)
        return self._record("sendPhoto", chat_id, photo=photo, caption=params.get("caption"))

    async def _send_sticker(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        if not params.get("sticker"):
            raise ApiError(400, "Bad request: sticker is required")
        return self._record("sendSticker", chat_id, sticker=params["sticker"])

    async def _send_chat_action(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        if params.get("action") != "typing":
            raise ApiError(400, "Bad request: action must be 'typing'")
        self.actions.append({"chat_id": chat_id, "action": "typing"})
        return NO_RESULT
