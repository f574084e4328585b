"""The crash benchmark's two-worker run: two real webhook workers on one database; the stand-in
platform delivers ``n`` updates (one a head, each ``/trogiup``) to worker A, which acknowledges each
(200); A is killed (SIGKILL) at once after the last. Measures how many of A's updates were answered
before the kill, how many through B after it, the time from the kill to the last answer, beside the
least it could be: A's worker lease running out (B takes nothing of A's before) plus, on Telegram,
the pace (``telegram.rate_per_second``) for the answers B sends."""

from __future__ import annotations

import asyncio
import math
import tempfile
from pathlib import Path

import aiohttp

from bench.common import scratch, url_of
from bench.crash_table import Row
from bot.config import TelegramConfig
from bot.pipeline.worker import WORKER_TTL
from models.delivery import inbox
from tests.crash.harness import IN_DOUBT, TOKEN_TG, TOKEN_ZALO, settle
from tests.crash.workers import TwoWorkers
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo

AT_ONCE = 16  # webhook deliveries in flight at once (Telegram allows up to 40 connections)
WAIT_AFTER_KILL = 180.0  # seconds past the floor after which what is unanswered counts as lost


async def worker_killed(kind: str, channel: str, n: int) -> Row | None:
    """``kind``: sqlite | postgres; ``channel``: telegram | zalo. None when PostgreSQL does not answer."""
    database = "SQLite file" if kind == "sqlite" else "PostgreSQL"
    async with scratch(kind) as sessions:
        if sessions is None:
            print("  PostgreSQL does not answer: skipped")
            return None
        url = url_of(sessions)
        fake: FakeTelegram | FakeZalo = FakeTelegram(token=TOKEN_TG) if channel == "telegram" else FakeZalo(
            token=TOKEN_ZALO)
        async with fake, aiohttp.ClientSession() as http:
            with tempfile.TemporaryDirectory() as tmp:
                async with TwoWorkers(url, Path(tmp), channel, fake) as workers:
                    platform = workers.platform
                    users = [platform.user_id(i) for i in range(n)]
                    gate = asyncio.Semaphore(AT_ONCE)

                    async def deliver(user: int | str) -> None:
                        async with gate:
                            await platform.send(user, "/trogiup", http)

                    await asyncio.gather(*(deliver(user) for user in users))  # each answered 200 by A
                    killed = await workers.kill_a()

                    def firsts() -> dict[str, float]:
                        """Head → when the first answer to it reached the stand-in."""
                        first: dict[str, float] = {}
                        for (chat, _text), ats in platform.stamps.items():
                            first[chat] = min(min(ats), first.get(chat, math.inf))
                        return first

                    before = sum(1 for at in firsts().values() if at < killed)
                    floor = 2 / 3 * WORKER_TTL.total_seconds()  # A renewed its lease a third of it before
                    if channel == "telegram":
                        floor += (n - before) / TelegramConfig().rate_per_second
                    for _ in range(int((floor + WAIT_AFTER_KILL) / 0.1)):  # (a bound: the rest is lost)
                        if len(firsts()) >= n:
                            break
                        await asyncio.sleep(0.1)
                    await settle(sessions, [fake], wait=30.0)  # copies sent twice arrive too
                    answered = list(firsts().values())
                    taken_over = workers.b_took_over()
        async with sessions() as s:
            left = await inbox.counts(s)
    via_b = sum(1 for at in answered if at >= killed)
    copies = sum(len(ats) - 1 for ats in platform.stamps.values())
    in_doubt = sum(len(ats) - 1 for ats in platform.stamps.values() if killed - IN_DOUBT <= min(ats) <= killed)
    last = max(answered) - killed if via_b else None
    lost = n - len(answered)
    print(f"  two {channel} webhook workers on {database}, A killed: A acknowledged {n}, answered {before} before "
          f"the kill, {via_b} through B after it (B took over: {'yes' if taken_over else 'no'}), lost {lost}, "
          f"sent twice {copies} ({in_doubt} sent by A in the {IN_DOUBT} s before the kill, unmarked); "
          f"the last answer {'—' if last is None else f'{last:.1f} s'} after the kill "
          f"(floor {floor:.1f} s: A's lease {2 / 3 * WORKER_TTL.total_seconds():.1f} s"
          f"{' + the pace' if channel == 'telegram' else ''}); inbox {left}", flush=True)
    return Row(f"two {channel} webhook workers, A killed", database, n, len(answered), n, lost, last, floor,
               twice=copies, in_doubt=in_doubt)
