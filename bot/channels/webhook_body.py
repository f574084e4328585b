"""Reading a webhook's JSON body without ever failing the request: too big, not UTF-8, not JSON,
nested deeper than any real update, or not an object — each is :class:`BadBody`, which the webhook
answers with 200 and a log line (a non-2xx makes the platform redeliver the same body forever)."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

MAX_BODY_BYTES = 1 << 20  # a real update is a few kilobytes
MAX_DEPTH = 32  # a real update nests about 6 deep

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")


class BadBody(ValueError):
    """The body is not a usable JSON object; the message says why (for the log)."""


def nesting(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (brackets inside strings do not count)."""
    depth = deepest = 0
    for byte in _STRINGS.sub(b'""', raw):
        if byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSE:
            depth -= 1
    return deepest


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw``; raises :class:`BadBody`."""
    if not raw.strip():
        raise BadBody("empty body")
    if len(raw) > MAX_BODY_BYTES:
        raise BadBody(f"{len(raw)} bytes, more than {MAX_BODY_BYTES}")
    if nesting(raw) > MAX_DEPTH:
        raise BadBody(f"nested deeper than {MAX_DEPTH}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadBody(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise BadBody(f"a JSON {type(data).__name__}, not an object")
    return data


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request's body as a JSON object; raises :class:`BadBody` (also for an over-long body)."""
    try:
        raw = await request.content.read(MAX_BODY_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise BadBody(f"unreadable body ({type(exc).__name__})") from None
    return parse_json_object(raw)
