"""Builders of incoming Telegram updates (a mixin of FakeTelegram): text messages, button presses
(callback queries) and shared contacts, shaped like the Bot API's Update objects."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any


class UpdateBuilders:
    """Needs ``updates``, ``messages``, ``bot_user`` and ``_notify`` from the fake server."""

    updates: list[dict[str, Any]]
    messages: dict[tuple[str, int], dict[str, Any]]
    bot_user: dict[str, Any]
    _notify: Callable[[], None]

    def __init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1001)
        self._callback_ids = itertools.count(1)

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        else:
            self._update_ids = itertools.count(max(update["update_id"] + 1, next(self._update_ids)))
        self.updates.append(update)
        self._notify()
        return update

    def user(self, user_id: int, first_name: str | None = None) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}",
                "language_code": "vi"}

    def incoming(self, user_id: int, **content: Any) -> dict[str, Any]:
        """A Message from ``user_id`` in the private chat with the bot, with ``content`` (text, contact,
        location, ...); wrap it as ``{"message": ...}`` and ``push_update`` it."""
        return {"message_id": next(self._message_ids), "date": int(time.time()), "from": self.user(user_id),
                "chat": self.chat(user_id), **content}

    def user_message(self, user_id: int, text: str, *, push: bool = True) -> dict[str, Any]:
        """A text message update from ``user_id`` (a /command gets a bot_command entity); queued if push."""
        message = self.incoming(user_id, text=text)
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        update = {"message": message}
        return self.push_update(update) if push else update

    def callback(self, user_id: int, data: str, message_id: int, *, push: bool = True) -> dict[str, Any]:
        """A callback_query update for a button under message ``message_id`` in the user's chat."""
        message = self.messages.get((str(user_id), message_id)) or {
            "message_id": message_id, "date": int(time.time()), "chat": self.chat(user_id),
            "from": self.bot_user, "text": "…"}
        query = {"id": str(next(self._callback_ids)), "from": self.user(user_id), "message": message,
                 "chat_instance": f"ci{user_id}", "data": data}
        update = {"callback_query": query}
        return self.push_update(update) if push else update

    def contact(self, user_id: int, phone: str, *, own: bool = True, push: bool = True) -> dict[str, Any]:
        """A shared-contact update; ``own=False`` shares somebody else's contact."""
        contact = {"phone_number": phone, "first_name": f"User{user_id}",
                   "user_id": user_id if own else user_id + 1}
        update = {"message": self.incoming(user_id, contact=contact)}
        return self.push_update(update) if push else update

    def user_photo(self, user_id: int, content: bytes, *, served: bool = True,
                   push: bool = True) -> dict[str, Any]:
        """A photo message (a thumbnail and the full size); the full size's bytes are served by getFile
        and the file URL unless ``served`` is False (a download that fails)."""
        file_id = f"ph{next(self._message_ids)}"
        if served:
            self.served[f"photos/{file_id}.jpg"] = content  # type: ignore[attr-defined]
        sizes = [{"file_id": f"{file_id}s", "file_unique_id": f"u{file_id}s", "width": 90, "height": 67,
                  "file_size": 1000},
                 {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280, "height": 960,
                  "file_size": len(content)}]
        update = {"message": self.incoming(user_id, photo=sizes)}
        return self.push_update(update) if push else update

    def user_image_file(self, user_id: int, content: bytes, name: str = "bien-ban.png",
                        mime_type: str = "image/png") -> dict[str, Any]:
        """An image sent "as a file" (a Document with an image MIME type), served by getFile."""
        file_id = f"ph{next(self._message_ids)}"
        self.served[f"photos/{file_id}.jpg"] = content  # type: ignore[attr-defined]
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name, "mime_type": mime_type,
                    "file_size": len(content)}
        return self.push_update({"message": self.incoming(user_id, document=document)})

    def chat(self, chat_id: int | str) -> dict[str, Any]:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            return {"id": -1001000000001, "type": "channel", "title": chat_id[1:], "username": chat_id[1:]}
        chat_id = int(chat_id)
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        return {"id": chat_id, "type": "supergroup" if str(chat_id).startswith("-100") else "group",
                "title": f"Group {chat_id}"}
