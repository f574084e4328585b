"""A stand-in Telegram Bot API server for tests (aiohttp on 127.0.0.1, free port).

    async with FakeTelegram() as fake:
        app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).base_file_url(fake.base_file_url)

Parameters are read from JSON bodies, query strings, urlencoded forms and multipart forms.
python-telegram-bot 22 POSTs ``application/x-www-form-urlencoded`` (``multipart/form-data`` when a
file is uploaded); string values are sent as-is, everything else JSON-encoded (``123``, ``true``,
``{"inline_keyboard": ...}``). The fake decodes a value with ``json.loads`` unless the spec types the
parameter as plain ``String``. Uploaded files appear in ``params`` as ``{"filename", "content_type",
"size"}`` and, with their bytes, in ``fake.files``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.fakes._base import ApiError, FakeServer
from tests.fakes.telegram_spec import check_types, field_types, method_fields
from tests.fakes.telegram_updates import UpdateBuilders

BLOCKED = "Forbidden: bot was blocked by the user"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a content and reply markup of the current message"
)
TEXT_LIMIT = 4096  # UTF-16 code units, as Telegram counts
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
BAD_PORT = "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _buttons(markup: Any) -> list[dict[str, Any]]:
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    return [b for row in rows or [] if isinstance(row, list) for b in row if isinstance(b, dict)]


def _decode(method: str, name: str, raw: str) -> Any:
    if field_types(method, name) == ["String"]:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class FakeTelegram(UpdateBuilders, FakeServer):
    send_methods = frozenset({"sendMessage", "sendDocument", "sendPhoto", "sendChatAction",
                              "editMessageText", "editMessageReplyMarkup"})

    def __init__(self, token: str | None = None, bot_id: int = 7000000001, username: str = "test_bot"):
        FakeServer.__init__(self, token)
        UpdateBuilders.__init__(self)
        self.bot_user = {"id": bot_id, "is_bot": True, "first_name": "Test Bot", "username": username,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False}
        self.updates: list[dict[str, Any]] = []  # queued, not yet confirmed by getUpdates offset
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}  # (chat key, message_id) -> Message
        self.sent: list[dict[str, Any]] = []  # every Message the bot sent, in order
        self.files: list[dict[str, Any]] = []  # uploads: method, field, filename, content_type, data
        self.answered: list[dict[str, Any]] = []  # answerCallbackQuery params
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.blocked: set[str] = set()
        self.handlers = {
            "getMe": self._get_me, "getUpdates": self._get_updates, "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message, "editMessageText": self._edit_text,
            "editMessageReplyMarkup": self._edit_markup, "answerCallbackQuery": self._answer_callback,
            "sendDocument": self._send_document, "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action, "setMyCommands": self._set_commands,
            "getMyCommands": self._get_commands, "deleteMyCommands": self._delete_commands,
            "getFile": self._get_file,
        }

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root_url}/file/bot"

    # --- test helpers ----------------------------------------------------------------------------
    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, description: str | None = None,
                  times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with an error (429 carries retry_after)."""
        extra: dict[str, Any] = {}
        if status == 429:
            description = description or f"Too Many Requests: retry after {retry_after}"
            extra["retry_after"] = retry_after
        default = {400: "Bad Request", 403: "Forbidden", 409: "Conflict", 502: "Bad Gateway"}
        for _ in range(times):
            self._failures[method].append(
                ApiError(status, description or default.get(status, "Internal Server Error"), **extra)
            )

    def rate_limited(self, retry_after: float) -> ApiError:
        seconds = max(1, int(-(-retry_after // 1)))
        return ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    def block(self, chat_id: int | str) -> None:
        self.blocked.add(str(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        self.blocked.discard(str(chat_id))

    def sent_to(self, chat_id: int | str) -> list[str]:
        """Texts of the messages sent to ``chat_id`` with sendMessage (edits not included)."""
        return [m["text"] for m in self.sent if str(m["chat"]["id"]) == str(chat_id) and "text" in m]

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [f for f in self.files if f["method"] == "sendDocument"]

    # --- strictness (what the real Bot API refuses) ------------------------------------------------
    def validate(self, method: str, params: dict[str, Any]) -> None:
        if method_fields(method) is None:
            return  # an unknown method is answered 404 by the dispatcher
        problems = check_types(method, params)
        if problems:
            raise ApiError(400, f"Bad Request: {problems[0]}")
        for button in _buttons(params.get("reply_markup")):
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not str(button.get("text") or "").strip():
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        caption = params.get("caption")
        if isinstance(caption, str) and utf16_len(caption) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")

    # --- protocol --------------------------------------------------------------------------------
    async def parse_params(self, request: web.Request, method: str) -> dict[str, Any]:
        params: dict[str, Any] = {k: _decode(method, k, v) for k, v in request.query.items()}
        if request.content_type == "application/json" and request.can_read_body:
            try:
                params.update(await request.json())
            except ValueError as exc:
                raise ApiError(400, "Bad Request: can't parse JSON") from exc
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    self.files.append({"method": method, "field": key, "filename": value.filename,
                                       "content_type": value.content_type, "data": data})
                    params[key] = {"filename": value.filename, "content_type": value.content_type,
                                   "size": len(data)}
                else:
                    params[key] = _decode(method, key, value)
        return params

    def error_response(self, error: ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
        if error.extra:
            body["parameters"] = error.extra
        return web.json_response(body, status=error.code)

    def _target(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if str(chat_id) in self.blocked:
            raise ApiError(403, BLOCKED)
        return chat_id

    def _store(self, chat_id: Any, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": self.chat(chat_id), "from": self.bot_user, **content}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(str(message["chat"]["id"]), message["message_id"])] = message
        self.sent.append(message)
        return message

    # --- methods ---------------------------------------------------------------------------------
    async def _get_file(self, params: dict[str, Any]) -> Any:
        """A File for a file id the fake handed out (``user_photo``); its ``file_path`` is served under
        ``/file/bot<token>/``; an unknown id is refused as the real API does."""
        file_id = str(params.get("file_id", ""))
        path = f"photos/{file_id}.jpg"
        if path not in self.served:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(self.served[path]),
                "file_path": path}

    async def _get_me(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        if offset:  # confirms (forgets) every update with a smaller id; negative = from the end
            self.updates = self.updates[offset:] if offset < 0 else [
                u for u in self.updates if u["update_id"] >= offset]
        while not self.updates and not self._closing and (left := deadline - time.monotonic()) > 0:
            await self._wait_change(left)
        return self.updates[:limit]

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params)
        if not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        try:
            port = urlsplit(url).port or 443
        except ValueError as exc:
            raise ApiError(400, "Bad Request: bad webhook: Failed to parse the URL") from exc
        if port not in WEBHOOK_PORTS:
            raise ApiError(400, BAD_PORT)
        connections = params.get("max_connections")
        if connections is not None and not 1 <= int(connections) <= 100:
            raise ApiError(400, "Bad Request: bad webhook: max_connections must be 1-100")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = dict(params)
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        hook = self.webhook or {}
        info = {"url": hook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}
        info.update({k: hook[k] for k in ("max_connections", "allowed_updates") if k in hook})
        return info

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat_id = self._target(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store(chat_id, params, text=text)

    def _find(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("inline_message_id"):
            return None
        chat_id = self._target(params)
        if not params.get("message_id"):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        key = (str(self.chat(chat_id)["id"]), int(params["message_id"]))
        if key not in self.messages:  # lenient: a message sent before the fake existed
            self.messages[key] = {"message_id": key[1], "date": int(time.time()), "chat": self.chat(chat_id),
                                  "from": self.bot_user, "text": ""}
        return self.messages[key]

    def _edit(self, message: dict[str, Any] | None, params: dict[str, Any], **content: Any) -> Any:
        if message is None:
            return True  # inline messages: Telegram answers True
        markup = params.get("reply_markup")
        if all(message.get(k) == v for k, v in content.items()) and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message.update(content, edit_date=int(time.time()))
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return message

    async def _edit_text(self, params: dict[str, Any]) -> Any:
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return self._edit(self._find(params), params, text=text)

    async def _edit_markup(self, params: dict[str, Any]) -> Any:
        return self._edit(self._find(params), params)

    async def _answer_callback(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                "or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answered.append(params)
        return True

    def _file_result(self, params: dict[str, Any], field: str) -> dict[str, Any]:
        value = params.get(field)
        if not value:
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        unique = f"U{next(self._message_ids)}"
        size = value.get("size", 0) if isinstance(value, dict) else 0
        name = value.get("filename") if isinstance(value, dict) else None
        return {"file_id": f"F{unique}", "file_unique_id": unique, "file_size": size, "file_name": name}

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"caption": params["caption"]} if params.get("caption") else {}

    async def _send_document(self, params: dict[str, Any]) -> Any:
        chat_id = self._target(params)
        document = self._file_result(params, "document")
        return self._store(chat_id, params, document=document, **self._caption(params))

    async def _send_photo(self, params: dict[str, Any]) -> Any:
        chat_id = self._target(params)
        info = self._file_result(params, "photo")
        photo = [{"file_id": info["file_id"], "file_unique_id": info["file_unique_id"], "width": 800,
                  "height": 600, "file_size": info["file_size"]}]
        return self._store(chat_id, params, photo=photo, **self._caption(params))

    async def _send_chat_action(self, params: dict[str, Any]) -> Any:
        self._target(params)
        if not params.get("action"):
            raise ApiError(400, "Bad Request: action is empty")
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        return scope, params.get("language_code") or ""

    async def _set_commands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name, description = str(command.get("command", "")), command.get("description", "")
            if not _COMMAND.match(name) or not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_commands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_commands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True
