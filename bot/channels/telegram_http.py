"""python-telegram-bot's HTTP requests over the process's one ``aiohttp.ClientSession`` (``App.http``).

PTB brings its own httpx client; this :class:`~telegram.request.BaseRequest` lets the Telegram channel
share the session the composition root opens and closes (DESIGN §5.3), and it is lighter per request.
The session is not ours: ``shutdown`` leaves it open. Timeouts map to :class:`TimedOut`, any other
transport failure to :class:`NetworkError`, which PTB's polling loop retries and the channel logs.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

Timeout = float | None | object  # PTB passes BaseRequest.DEFAULT_NONE for "not given"


class AiohttpRequest(BaseRequest):
    def __init__(self, session: aiohttp.ClientSession, *, read_timeout: float | None = 10.0,
                 write_timeout: float | None = 20.0, connect_timeout: float | None = 10.0) -> None:
        self.session = session
        self._read, self._write, self._connect = read_timeout, write_timeout, connect_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None  # the session belongs to the App

    def _given(self, value: Timeout, default: float | None) -> float | None:
        # a Timeout that is not PTB's DEFAULT_NONE is a float or None (the alias says object for DEFAULT_NONE)
        return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else cast("float | None", value)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        params = request_data.json_parameters if request_data is not None else None
        data: aiohttp.FormData | dict[str, str] | None = params
        files = request_data.multipart_data if request_data else None
        read = self._given(read_timeout, self._read)
        if files:
            form = aiohttp.FormData()
            for name, value in (params or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
            write = self._given(write_timeout, self._write)
            read = None if read is None or write is None else read + write
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._given(connect_timeout, self._connect),
                                        sock_read=read)
        try:
            async with self.session.request(method, url, data=data, timeout=timeout,
                                            headers={"User-Agent": self.USER_AGENT}) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            raise NetworkError(f"aiohttp: {exc!r}") from exc


class UpdatesRequest(AiohttpRequest):
    """The ``getUpdates`` request: also keeps the updates as received (JSON), for the inbox: the
    channel writes them down as they came instead of turning the parsed ``Update``s back into JSON
    (``to_dict``, the same content; the webhook stores its body as received too). Only the polling
    loop uses it, one request at a time."""

    def __init__(self, session: aiohttp.ClientSession, **timeouts: float | None) -> None:
        super().__init__(session, **timeouts)
        self.received: list[dict[str, Any]] = []

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = BaseRequest.parse_json_payload(payload)
        result = data.get("result") if data.get("ok") else None
        self.received = [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []
        return data

    def take(self) -> list[dict[str, Any]]:
        """The updates of the last response (once)."""
        received, self.received = self.received, []
        return received

