"""Outbox drain against the stand-in Telegram server enforcing a rate limit (token bucket):
achieved rate ≥ 0.9 of the allowed rate, no message lost or sent twice, on SQLite and PostgreSQL.

    python -m bench outbox
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import aiohttp

from bench.common import scratch
from bot.channels.base import Route
from bot.delivery import DrainPolicy, RateLimiter, drain
from bot.pipeline.errors import SendError, SendRetryLater
from handlers.messages import Reply
from models.accounts.tables import ChannelAccount
from models.db import SessionFactory, transaction
from models.delivery.outbox import enqueue
from tests.fakes.telegram_api import FakeTelegram

ALLOWED = 30.0  # messages per second the stand-in accepts
MESSAGES = 300
CHATS = 100  # three messages per chat: the per-chat pace (1 s) matters too


class HttpTelegram:
    """The smallest Telegram channel: sendMessage over HTTP, 429 → SendRetryLater."""

    name = "telegram"

    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http = f"{base_url}TOKEN/sendMessage", http

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def routes(self) -> list[Route]:
        return []

    async def send(self, external_id: str, reply: Reply) -> None:
        async with self.http.post(self.url, json={"chat_id": int(external_id), "text": reply.text}) as resp:
            body = await resp.json()
        if resp.status == 429:
            raise SendRetryLater(float(body.get("parameters", {}).get("retry_after", 1)))
        if not body.get("ok"):
            raise SendError(str(body))


async def run(sessions: SessionFactory) -> tuple[float, float, int, int, int]:
    now = datetime.now(UTC)
    async with transaction(sessions) as s:
        accounts = [ChannelAccount(channel="telegram", external_id=str(1000 + i), created_at=now) for i in range(CHATS)]
        s.add_all(accounts)
        await s.flush()
        account_ids = [a.id for a in accounts]
        for i in range(MESSAGES):
            account_id = account_ids[i % CHATS]
            assert account_id is not None  # flushed
            await enqueue(s, key=f"bench:{i}", kind="digest", account_id=account_id, text=f"tin {i}", now=now)
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        fake.rate_limit(per_second=ALLOWED)
        channel = HttpTelegram(fake.base_url, http)
        t0 = time.perf_counter()
        stats = await drain(sessions, {"telegram": channel}, RateLimiter(ALLOWED, 1.0), DrainPolicy(batch=100))
        elapsed = time.perf_counter() - t0
        delivered = Counter(p["text"] for p in fake.methods_called("sendMessage"))
    doubled = sum(1 for n in delivered.values() if n > 1)
    lost = MESSAGES - len(delivered)
    return elapsed, stats.sent / elapsed, lost, doubled, fake.rejected


async def main() -> None:
    print(f"{MESSAGES} messages to {CHATS} chats, stand-in allows {ALLOWED:.0f}/s (token bucket), 1 s per chat")
    print(f"{'database':<9} {'seconds':>8} {'achieved/s':>11} {'ratio':>6} {'lost':>5} {'doubled':>8} {'429s':>5}")
    for kind in ("sqlite", "postgres"):
        async with scratch(kind) as sessions:
            if sessions is None:
                print(f"{kind}: PostgreSQL does not answer, skipped")
                continue
            elapsed, rate, lost, doubled, rejected = await run(sessions)
            print(f"{kind:<9} {elapsed:>8.2f} {rate:>11.1f} {rate / ALLOWED:>6.2f} {lost:>5} {doubled:>8} {rejected:>5}"
                  f"  {'ok' if rate >= 0.9 * ALLOWED and not lost and not doubled else 'FAIL'}")
