"""Scale-out of conversation steps: one, then two real ``python -m bot run`` workers in webhook mode on
one PostgreSQL, behind a round-robin dispatcher (each update to the next worker, so one head's steps
alternate between the workers), against the stand-in Bot API with Telegram's pacing off.

    python -m bench webhooks        (BENCH_WEBHOOK_HEADS=80 BENCH_WEBHOOK_RUNS=2)

Each of the heads binds, reports an election and asks the status (10 steps), waiting for the answer
to each step before the next. Runs alternate (1 worker, 2 workers, 1, 2, …) on a fresh database each.
Printed per run: steps/s, then every step checked handled exactly once: ``lost`` = steps never
answered + inbox rows left pending + replies never sent; ``doubled`` = messages a head got beyond its
reply rows + updates processed twice (a processed-message row is unique: this stays 0 unless the
dedupe broke). Then the scale-out ratio (2 workers ÷ 1). On a two-core machine the dispatcher, the
stand-in server, PostgreSQL and the workers share the two cores: a second worker cannot add much.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlmodel import col

from bench.common import postgres_url
from bot.channels.telegram_webhook import SECRET_HEADER
from models.accounts.tables import ChannelAccount
from models.db import make_engine, make_session_factory
from models.delivery import inbox
from models.delivery.outbox import REPLY, SENT
from models.delivery.tables import OutboxMessage, ProcessedMessage
from models.typed_sql import id_col
from tests.deploy.workers import HEAD_BASE, HOOK, SECRET, TOKEN, Deployment, Step, script, seed
from tests.fakes.telegram_api import FakeTelegram

HEADS = int(os.environ.get("BENCH_WEBHOOK_HEADS", "80"))  # 40 gives runs of 1-3 s: too short to compare
RUNS = int(os.environ.get("BENCH_WEBHOOK_RUNS", "2"))
WAIT = 60.0  # a step not answered within this is lost

CONFIG = """
[bot]
period = "post2025"
[telegram]
api_base_url = "{api}"
mode = "webhook"
webhook_url = "https://bot.example.vn/telegram/webhook"
menu_commands = false
rate_per_second = 1e6          # pacing off: it would cap both runs and measure nothing
chat_per_second = 1e6
chat_burst = 1000
[web]
host = "127.0.0.1"
[scheduler]
enabled = false
files_dir = "{files}"
"""


class Stand(FakeTelegram):
    """The stand-in Bot API, telling waiters when a chat gets a message (no polling in the driver)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.got: dict[int, asyncio.Event] = {}

    def _store(self, chat_id: Any, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message = super()._store(chat_id, params, **content)
        event = self.got.get(int(message["chat"]["id"]))
        if event is not None:
            event.set()
        return message


class Fast(Deployment):
    def config_file(self) -> Path:
        path = self.tmp / "config.toml"
        path.write_text(CONFIG.format(api=self.fake.base_url, files=self.tmp / "outbox"))
        return path


@dataclass
class Run:
    workers: int
    steps: int
    seconds: float
    lost: int
    doubled: int
    posted: dict[str, int]

    @property
    def rate(self) -> float:
        return self.steps / self.seconds


async def drive(fake: Stand, post: Any, user_id: int, steps: list[Step], lost: list[str]) -> None:
    event = fake.got.setdefault(user_id, asyncio.Event())
    for kind, arg in steps:
        if kind == "say":
            update = fake.user_message(user_id, arg, push=False)
        else:
            question = next((m for m in reversed(fake.sent) if m["chat"]["id"] == user_id and arg in {
                b.get("callback_data") for row in m.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row}), None)
            if question is None:
                lost.append(f"{user_id}:{arg} (no question)")
                return
            update = fake.callback(user_id, arg, question["message_id"], push=False)
        update["update_id"] = next(fake._update_ids)
        event.clear()
        await post(update)
        try:
            await asyncio.wait_for(event.wait(), WAIT)
        except TimeoutError:
            lost.append(f"{user_id}:{arg}")
            return
        # a step may answer with more than one message: let the rest arrive before the next step
        await asyncio.sleep(0)


async def one_run(workers: int) -> Run:
    async with postgres_url() as url:
        if url is None:
            raise RuntimeError("PostgreSQL does not answer")
        engine = make_engine(url)
        from bot.dbadmin import upgrade

        await upgrade(engine)
        sessions = make_session_factory(engine)
        people = await seed(sessions, HEADS, idle=0, communes=1)
        try:
            async with Stand(token=TOKEN) as fake, aiohttp.ClientSession() as http:
                with tempfile.TemporaryDirectory() as tmp:
                    d = Fast(fake, url, Path(tmp))
                    turn = [0]

                    async def post(update: dict[str, Any]) -> None:
                        for _ in range(2 * workers):
                            w = d.workers[turn[0] % len(d.workers)]
                            turn[0] += 1
                            try:
                                async with http.post(w.base + HOOK, json=update,
                                                     headers={SECRET_HEADER: SECRET}) as resp:
                                    if resp.status == 200:
                                        d.posted[w.name] = d.posted.get(w.name, 0) + 1
                                        return
                            except aiohttp.ClientError:
                                continue
                        raise AssertionError("no worker took the update")

                    lost: list[str] = []
                    scripts = {HEAD_BASE + i: script(code) for i, code in enumerate(people.codes)}
                    try:
                        await d.start(workers)
                        t0 = time.perf_counter()
                        await asyncio.gather(*(drive(fake, post, u, s, lost) for u, s in scripts.items()))
                        seconds = time.perf_counter() - t0
                        await asyncio.sleep(1.0)  # anything still on its way (a double would come now)
                    finally:
                        await d.stop()
                    sends = Counter(int(m["chat"]["id"]) for m in fake.sent)
            async with sessions() as s:
                accounts: dict[int, str] = {int(i): str(e) for i, e in (await s.execute(
                    select(id_col(ChannelAccount.id), col(ChannelAccount.external_id)))).all()}
                replies = Counter(accounts[int(a)] for a in (await s.execute(
                    select(col(OutboxMessage.account_id)).where(col(OutboxMessage.kind) == REPLY))).scalars().all())
                unsent = (await s.execute(select(func.count()).select_from(OutboxMessage).where(
                    col(OutboxMessage.kind) == REPLY, col(OutboxMessage.status) != SENT))).scalar_one()
                processed = (await s.execute(select(func.count()).select_from(ProcessedMessage))).scalar_one()
                pending = (await inbox.counts(s))["pending"]
        finally:
            await engine.dispose()
    posted = sum(d.posted.values())
    doubled = sum(max(0, sends[u] - replies[str(u)]) for u in scripts) + max(0, processed - posted)
    return Run(workers, posted, seconds, len(lost) + pending + unsent, doubled, d.posted)


async def main() -> None:
    print(f"{HEADS} heads x {len(script('X'))} steps, webhook mode, round-robin over the workers, one PostgreSQL, "
          f"pacing off; 1 and 2 workers alternated, {RUNS} runs each; {os.cpu_count()} CPU cores here")
    async with postgres_url() as url:
        if url is None:
            print("  PostgreSQL does not answer: skipped")
            return
    rates: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(RUNS):
        for workers in (1, 2):
            r = await one_run(workers)
            rates[workers].append(r.rate)
            print(f"  {workers} worker(s): {r.steps} steps in {r.seconds:.1f}s = {r.rate:.1f} steps/s; "
                  f"lost {r.lost}, doubled {r.doubled}; updates per worker {r.posted}", flush=True)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"  scale-out, 2 workers / 1: {two / one:.2f}x (medians {two:.1f} / {one:.1f} steps/s)"
          + ("  [on 2 cores the dispatcher, the stand-in, PostgreSQL and the workers share them: "
             "little room for a second worker]" if (os.cpu_count() or 1) <= 2 else ""))


if __name__ == "__main__":
    asyncio.run(main())
