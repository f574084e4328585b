"""Shared machinery of the fake Bot API servers: aiohttp app on 127.0.0.1, call log, waits,
failure injection and a token-bucket rate limit. Subclasses supply parsing, handlers and envelopes."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any, Self

from aiohttp import web

NO_RESULT = object()  # a handler's answer for an envelope without ``result`` (``{"ok": true}``)

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ApiError(Exception):
    """Raised by a handler to answer with the API's error envelope."""

    def __init__(self, code: int, description: str, **extra: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.extra = extra


class TokenBucket:
    """``per_second`` tokens per second, bursts up to ``burst`` (default: ``per_second``)."""

    def __init__(self, per_second: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = float(per_second)
        self.capacity = float(burst if burst is not None else max(per_second, 1))
        self.tokens = self.capacity
        self.clock = clock
        self.last = clock()

    def take(self) -> float:
        """0.0 when a token was taken, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class FakeServer:
    """Base class; use ``async with Fake() as fake`` or ``await fake.start()`` / ``await fake.stop()``."""

    send_methods: frozenset[str] = frozenset()

    def __init__(self, token: str | None = None) -> None:
        self.token = token  # None: accept any token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.accepted = 0  # send-method calls that passed the rate limit
        self.rejected = 0  # send-method calls answered 429 by the rate limit
        self._failures: dict[str, deque[ApiError]] = defaultdict(deque)
        self._bucket: TokenBucket | None = None
        self._chat_limit: tuple[float, float] | None = None  # per chat: (per second, burst)
        self._chat_buckets: dict[str, TokenBucket] = {}
        self.send_log: list[tuple[float, str]] = []  # (monotonic time, chat) of every accepted send
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.handlers: dict[str, Handler] = {}
        self.served: dict[str, bytes] = {}  # file path -> bytes, downloadable as the real API serves them
        self.fetched: list[tuple[str, str]] = []  # (Host header, path) of every file download asked for
        self.tls: tuple[str, str] | None = None  # (cert, key): files also served over https (``tls_port``)
        self.tls_port = 0

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> Self:
        """Listen on a free port; a stopped fake starts again at the same address (same ``base_url``)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._serve_file)
        app.router.add_get("/moved", self._moved)
        # a request whose client went away (a killed bot) is cancelled, as a real server drops it:
        # an update is not handed to a dead long poll
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if self.tls is not None:  # the same app over https, as a CDN serves files
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.tls)
            await web.TCPSite(self._runner, "127.0.0.1", self.tls_port, ssl_context=context).start()
            self.tls_port = next(a[1] for a in self._runner.addresses if a[1] != self.port)
        self._closing = False
        return self

    async def _moved(self, request: web.Request) -> web.StreamResponse:
        """``GET /moved?to=URL``: a redirect to anywhere (what a hostile or misconfigured host does)."""
        raise web.HTTPFound(request.query.get("to", "/"))

    async def _serve_file(self, request: web.Request) -> web.StreamResponse:
        """``GET /file/bot<token>/<path>``: the bytes of a stored file (a wrong token or path → 404)."""
        self.fetched.append((request.host, request.match_info["path"]))
        self._notify()
        data = self.served.get(request.match_info["path"])
        if data is None or (self.token is not None and request.match_info["token"] != self.token):
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- test helpers ----------------------------------------------------------------------------
    def rate_limit(self, per_second: float | None, burst: float | None = None,
                   clock: Callable[[], float] = time.monotonic) -> None:
        """Token bucket across ``send_methods``; ``None`` switches the limit off. A test that counts
        429s passes a ``clock`` that stands still, so the bucket does not refill while it runs."""
        self._bucket = TokenBucket(per_second, burst, clock) if per_second else None

    def chat_rate_limit(self, per_second: float | None, burst: float | None = None) -> None:
        """A token bucket per chat too (Telegram: about one message a second to one chat, short bursts
        tolerated), answered 429 with ``retry_after`` like the overall one; ``None`` switches it off."""
        self._chat_limit = (per_second, burst if burst is not None else 1.0) if per_second else None
        self._chat_buckets.clear()

    def max_sends_within(self, seconds: float, chat: str | None = None) -> int:
        """The most accepted sends (to ``chat``, or to all) in any window of ``seconds``."""
        times = [at for at, c in self.send_log if chat is None or c == chat]
        best, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= seconds:
                first += 1
            best = max(best, last - first + 1)
        return best

    def methods_called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def wait_for_calls(
        self, method: str, n: int = 1, timeout: float = 30.0  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Wait until ``method`` was called at least ``n`` times; returns the params of those calls.
        ``timeout`` is a safety net against a hang, not a time limit on the code under test."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found := self.methods_called(method)) < n:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [name for name, _ in self.calls]
                raise AssertionError(f"{method} called {len(found)}x, wanted {n}; calls: {seen}")
            await self._wait_change(remaining)
        return found

    async def _wait_change(self, seconds: float) -> bool:
        """Wait for any recorded call / queued update (or shutdown); False on timeout."""
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # --- request handling ------------------------------------------------------------------------
    async def parse_params(self, request: web.Request, method: str) -> dict[str, Any]:
        raise NotImplementedError

    def error_response(self, error: ApiError) -> web.Response:
        raise NotImplementedError

    def rate_limited(self, retry_after: float) -> ApiError:
        raise NotImplementedError

    def validate(self, method: str, params: dict[str, Any]) -> None:
        """Refuse (raise ApiError) what the real API refuses, before any handler runs."""

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await self.parse_params(request, method)
        except ApiError as error:
            return self.error_response(error)
        self.calls.append((method, params))
        self._notify()
        try:
            if self.token is not None and request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if self._failures[method]:
                raise self._failures[method].popleft()
            self.validate(method, params)
            if method in self.send_methods:
                wait = self._bucket.take() if self._bucket else 0.0
                chat = str(params.get("chat_id", ""))
                if not wait and self._chat_limit is not None:
                    if chat not in self._chat_buckets:
                        self._chat_buckets[chat] = TokenBucket(*self._chat_limit)
                    wait = self._chat_buckets[chat].take()
                if wait:
                    self.rejected += 1
                    raise self.rate_limited(wait)
                self.accepted += 1
                self.send_log.append((time.monotonic(), chat))
            handler = self.handlers.get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as error:
            return self.error_response(error)
        return web.json_response({"ok": True} if result is NO_RESULT else {"ok": True, "result": result})
