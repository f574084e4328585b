"""A :class:`Reply` as the JSON kept with its outbox row, so that a reply a crash left unsent is sent
later as it was meant (choices, the phone button, an attached file), not as bare text."""

from __future__ import annotations

import base64
import json
from typing import Any

from handlers.messages import Attachment, Choice, Reply


def encode(reply: Reply) -> str:
    data: dict[str, Any] = {"text": reply.text, "free_text": reply.free_text}
    if reply.choices:
        data["choices"] = [[c.value, c.label] for c in reply.choices]
    if reply.ask_phone:
        data["ask_phone"] = True
    if reply.attachment is not None:
        a = reply.attachment
        data["attachment"] = {"filename": a.filename, "mime_type": a.mime_type, "caption": a.caption,
                              "content": base64.b64encode(a.content).decode("ascii")}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode(payload: str | None, text: str) -> Reply:
    """The reply stored by :func:`encode`; a row without one (a broadcast) is its text."""
    if not payload:
        return Reply(text=text)
    data = json.loads(payload)
    attachment = None
    if isinstance(found := data.get("attachment"), dict):
        attachment = Attachment(filename=found["filename"], content=base64.b64decode(found["content"]),
                                mime_type=found["mime_type"], caption=found.get("caption"))
    return Reply(text=data.get("text", text), choices=[Choice(v, label) for v, label in data.get("choices", [])],
                 attachment=attachment, ask_phone=bool(data.get("ask_phone")),
                 free_text=bool(data.get("free_text", True)))
