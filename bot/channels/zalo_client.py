"""A small client for the Zalo Bot API (``POST {base_url}/bot{token}/{method}``, JSON in and out).

The envelope is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``.
Zalo does not document the HTTP status of an error envelope, so the body decides; the HTTP status is
used only when the body is not an envelope (e.g. a proxy's HTML error page).
The token never appears in an exception or a log line (it is masked as ``<token>``).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from typing import Any, cast

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT = 2000
DEFAULT_RETRY_AFTER = 1.0  # seconds; Zalo publishes no rate numbers and sends no retry hint


class ZaloError(Exception):
    """An error answer (or no usable answer) from the Zalo Bot API."""

    retryable = False

    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(f"Zalo error {error_code}: {description}")
        self.error_code = error_code
        self.description = description


class ZaloBadRequest(ZaloError):
    """400: the request is wrong (e.g. text longer than 2000 characters); do not retry as is."""


class ZaloChatGone(ZaloError):
    """410 "The chat_id is invaild": the user is gone or the id is wrong; stop sending, never retry."""


class ZaloUnauthorized(ZaloError):
    """401: the token is invalid or was reset."""


class ZaloServerError(ZaloError):
    """5xx, 403 (documented as "internal error"), 408 outside getUpdates, or a network failure
    (error_code 0): retry later."""

    retryable = True


class ZaloRetryAfter(ZaloError):
    """429: quota exceeded; wait ``retry_after`` seconds (a suggestion) before retrying."""

    retryable = True

    def __init__(self, error_code: int, description: str, retry_after: float = DEFAULT_RETRY_AFTER) -> None:
        super().__init__(error_code, description)
        self.retry_after = retry_after


def error_for(error_code: int, description: str, retry_after: float | None = None) -> ZaloError:
    """The typed exception for an error code."""
    if error_code == 429:
        return ZaloRetryAfter(error_code, description, retry_after or DEFAULT_RETRY_AFTER)
    if error_code == 400:
        return ZaloBadRequest(error_code, description)
    if error_code == 401:
        return ZaloUnauthorized(error_code, description)
    if error_code == 410:
        return ZaloChatGone(error_code, description)
    if error_code in (0, 403, 408) or error_code >= 500:
        return ZaloServerError(error_code, description)
    return ZaloError(error_code, description)


class ZaloClient:
    """One bot token; the aiohttp session belongs to the caller (one per process)."""

    def __init__(self, token: str, base_url: str, session: aiohttp.ClientSession, *,
                 request_timeout: float = 15.0) -> None:
        self._token = token
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._session = session
        self._request_timeout = request_timeout

    def __repr__(self) -> str:
        return f"ZaloClient(base_url={self._base_url!r})"

    def _mask(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "<token>")
            secret = self._token.partition(":")[2]
            if len(secret) >= 6:
                text = text.replace(secret, "<token>")
        return text

    async def call(self, method: str, payload: dict[str, Any] | None = None, *,
                   http_timeout: float | None = None) -> Any:
        """POST one method; returns ``result`` (``True`` when the envelope has none) or raises ZaloError."""
        url = f"{self._base_url}/bot{self._token}/{method}"
        client_timeout = aiohttp.ClientTimeout(total=http_timeout or self._request_timeout)
        try:
            async with self._session.post(url, json=payload or {}, timeout=client_timeout) as response:
                status, raw = response.status, await response.read()
                retry_header = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            # `from None`: the original exception's text contains the URL, hence the token.
            network_error = ZaloServerError(0, self._mask(f"{method}: network error {type(exc).__name__}: {exc}"))
            log.warning("%s", network_error)
            raise network_error from None
        try:
            body = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            body = None
        if isinstance(body, dict) and "ok" in body:
            if body["ok"] is True:
                return body.get("result", True)
            code = _as_int(body.get("error_code")) or status
            description = self._mask(str(body.get("description") or f"HTTP {status}"))
        else:
            code = status if status >= 300 else 502
            description = f"{method}: HTTP {status}, not a Zalo API answer"
        error = error_for(code, description, _retry_after(retry_header))
        if code != 408:
            log.info("zalo %s failed: %s", method, error)
        raise error

    async def get_me(self) -> dict[str, Any]:
        return cast("dict[str, Any]", await self.call("getMe"))

    async def get_updates(self, timeout: int = 30) -> dict[str, Any] | None:  # noqa: ASYNC109 (API field)
        """One update ``{event_name, message}`` or None when nothing came: a 408 after ``timeout``
        seconds, or an ``ok:true`` answer without an update (the caller pauses before the next poll)."""
        try:
            update = await self.call("getUpdates", {"timeout": str(timeout)}, http_timeout=timeout + 10)
            return update if isinstance(update, dict) and update else None
        except ZaloServerError as exc:
            if exc.error_code == 408:
                return None
            raise

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        return cast("dict[str, Any]", await self.call("setWebhook", {"url": url, "secret_token": secret_token}))

    async def delete_webhook(self) -> dict[str, Any]:
        return cast("dict[str, Any]", await self.call("deleteWebhook"))

    async def get_webhook_info(self) -> dict[str, Any]:
        return cast("dict[str, Any]", await self.call("getWebhookInfo"))

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send one text (1-2000 characters; use split_text first). Returns ``{message_id, date}``."""
        return cast("dict[str, Any]", await self.call("sendMessage", {"chat_id": str(chat_id), "text": text}))

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> dict[str, Any]:
        payload = {"chat_id": str(chat_id), "photo": photo_url}
        if caption:
            payload["caption"] = caption
        return cast("dict[str, Any]", await self.call("sendPhoto", payload))

    async def send_sticker(self, chat_id: str, sticker: str) -> dict[str, Any]:
        return cast("dict[str, Any]", await self.call("sendSticker", {"chat_id": str(chat_id), "sticker": sticker}))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> bool:
        return bool(await self.call("sendChatAction", {"chat_id": str(chat_id), "action": action}))


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _retry_after(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


# --- splitting long replies ----------------------------------------------------------------------


def _extends(char: str) -> bool:
    """True for characters that belong to the previous one's grapheme (combining marks, joiners)."""
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in "\u200d\u200c"
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
    )


def _boundary(text: str, index: int) -> bool:
    """May a message end before ``text[index]``? (Always after a line break, as in UAX #29.)"""
    if index >= len(text) or text[index - 1] in "\r\n":
        return True
    return not (_extends(text[index]) or text[index - 1] == "\u200d")


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _cut(rest: str, limit: int) -> tuple[int, int]:
    """For ``rest`` (longer than limit, not starting with whitespace): end of the next part and start
    of the remainder. Prefers the last line break, then the last other whitespace, then the last
    grapheme boundary within the limit."""
    window = rest[: limit + 1]
    breaks = window.rfind("\n")
    if breaks > 0:  # the whitespace around a line break is dropped, whatever follows it
        return len(rest[:breaks].rstrip()), _skip_space(rest, breaks)
    for index in range(len(window) - 1, 0, -1):
        if window[index].isspace() and _boundary(rest, index):
            start = _skip_space(rest, index)
            if _boundary(rest, start):
                return len(rest[:index].rstrip()), start
    end = next((i for i in range(limit, 0, -1) if _boundary(rest, i)), limit)
    return len(rest[:end].rstrip()), _skip_space(rest, end)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters.

    Invariant: with ``t = text.strip()``, every part is non-empty, at most ``limit`` long and has no
    leading or trailing whitespace, and ``t == parts[0] + s1 + parts[1] + ... + parts[-1]`` where each
    separator ``s_i`` is the whole run of whitespace at the cut, or empty for a cut inside an over-long
    word. Lines are never split while they fit: if no line of ``t`` is longer than ``limit``, every
    ``s_i`` contains a line break. Apart from dropping whitespace at a cut (even a space carrying a
    combining mark), a cut never separates a character from the combining marks or joiners that
    follow it, unless one such cluster is itself longer than ``limit``. Blank text gives [].
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest, parts = text.strip(), []
    while len(rest) > limit:
        end, start = _cut(rest, limit)
        parts.append(rest[:end])
        rest = rest[start:]
    if rest:
        parts.append(rest)
    return parts
