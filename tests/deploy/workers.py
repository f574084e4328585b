"""Several real ``python -m bot run`` workers on one PostgreSQL, in webhook mode behind a round-robin
dispatcher, against the stand-in Telegram enforcing the platform's limits (the README's deployment).

Used by ``tests/deploy/test_workers.py`` (small) and ``bench/bench_workers.py`` (larger).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from bot.channels.telegram_webhook import SECRET_HEADER
from models.accounts.people import create_invite
from models.accounts.tables import ChannelAccount, Person
from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.delivery.outbox import enqueue
from models.delivery.tables import OutboxMessage
from models.units.tree import add_unit
from tests.bot.web.conftest import free_port
from tests.fakes.telegram_api import FakeTelegram
from tests.waiting import until

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:SCALE-out-token"
SECRET = "scale-out-secret_0123456789"
HOOK = "/telegram/webhook"
IDLE_BASE, STAFF_BASE, HEAD_BASE = 7_000, 8_000, 9_000  # Telegram chat ids of the three kinds of people

Step = tuple[str, str]  # ("say", text) | ("tap", value)


def script(code: str) -> list[Step]:
    """One village head: bind, report an election (typed answers, two taps), ask for the status."""
    return [("say", f"/start {code}"), ("say", "/baucu"), ("say", "15/12/2024"), ("say", "Nguyễn Văn An"),
            ("say", "250 240 200 180"), ("tap", "member"), ("tap", "no"), ("say", "Bỏ qua"), ("tap", "send"),
            ("say", "/trangthai")]


CONFIG = """
[bot]
period = "post2025"
[telegram]
api_base_url = "{api}"
mode = "webhook"
webhook_url = "https://bot.example.vn/telegram/webhook"
menu_commands = false
chat_burst = 2                 # the stand-in tolerates 3: one message of margin for the network's jitter
[web]
host = "127.0.0.1"
[reminders]
election_date = "2024-12-15"
quiet_start = "00:00"
quiet_end = "00:00"
[scheduler]
files_dir = "{files}"
reminder_cron = "* * * * *"
digest_daily_cron = "* * * * *"
digest_weekly_cron = "0 0 1 1 *"
expiry_cron = "0 0 1 1 *"
outbox_drain_seconds = 1
leader_lease_seconds = {lease}
"""


@dataclass
class Worker:
    name: str
    port: int
    proc: asyncio.subprocess.Process
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class People:
    codes: list[str]  # invites of the scripted heads
    idle: list[int]  # bound heads who never write: they get reminders
    staff: list[int]  # commune staff: they get digests


@dataclass
class Deployment:
    fake: FakeTelegram
    db_url: str
    tmp: Path
    lease_seconds: int = 6
    workers: list[Worker] = field(default_factory=list)
    posted: dict[str, int] = field(default_factory=dict)  # updates per worker
    _next: int = 0

    def config_file(self) -> Path:
        path = self.tmp / "config.toml"
        path.write_text(CONFIG.format(api=self.fake.base_url, files=self.tmp / "outbox", lease=self.lease_seconds))
        return path

    async def start(self, n: int) -> None:
        config = self.config_file()
        for i in range(n):
            port, log = free_port(), self.tmp / f"worker{i}.log"
            env = {**os.environ, "DATABASE_URL": self.db_url, "WEB_PORT": str(port), "TELEGRAM_BOT_TOKEN": TOKEN,
                   "TELEGRAM_WEBHOOK_SECRET": SECRET, "ZALO_BOT_TOKEN": "", "PYTHONUNBUFFERED": "1"}
            with log.open("w") as out:
                proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--config", str(config),
                                                            cwd=ROOT, env=env, stdout=out, stderr=out)
            self.workers.append(Worker(f"w{i}", port, proc, log))
        for w in self.workers:
            await until(lambda w=w: "serving web:" in w.output() or not w.alive, f"{w.name} serving")  # type: ignore[misc]
            assert w.alive, w.output()

    async def health(self, w: Worker) -> dict[str, Any] | None:
        try:
            async with aiohttp.ClientSession() as http, http.get(w.base + "/healthz") as resp:
                return dict(json.loads(await resp.text()))
        except aiohttp.ClientError:
            return None

    async def roles(self) -> dict[str, str]:
        out = {}
        for w in self.workers:
            if w.alive and (h := await self.health(w)) is not None:
                out[w.name] = str(h.get("scheduler"))
        return out

    async def leader(self) -> Worker | None:
        roles = await self.roles()
        leaders = [w for w in self.workers if roles.get(w.name) == "leader"]
        assert len(leaders) <= 1, roles
        return leaders[0] if leaders else None

    async def post(self, update: dict[str, Any]) -> None:
        """The load balancer: the next live worker in turn; a worker that does not answer is skipped."""
        for _ in range(2 * len(self.workers)):
            w = self.workers[self._next % len(self.workers)]
            self._next += 1
            if not w.alive:
                continue
            try:
                async with aiohttp.ClientSession() as http, http.post(
                        w.base + HOOK, json=update, headers={SECRET_HEADER: SECRET}) as resp:
                    if resp.status == 200:
                        self.posted[w.name] = self.posted.get(w.name, 0) + 1
                        return
            except aiohttp.ClientError:
                continue
        raise AssertionError("no worker took the update")

    def kill(self, w: Worker) -> None:
        w.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        for w in self.workers:
            if w.alive:
                w.proc.send_signal(signal.SIGTERM)
        for w in self.workers:
            try:
                await asyncio.wait_for(w.proc.wait(), 20)
            except TimeoutError:
                w.proc.kill()
                await w.proc.wait()


async def seed(sessions: SessionFactory, heads: int, idle: int, communes: int = 2) -> People:
    """A province: ``communes`` communes with staff bound on Telegram, ``idle`` villages whose heads are
    bound and never report (reminders), ``heads`` villages with an invite each (the scripted heads)."""
    now = utcnow()
    async with transaction(sessions) as s:
        prov = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None)
        units = [await add_unit(s, period="post2025", code=f"C{c}", level="commune", name=f"Xã {c}", parent=prov,
                                type="xã", full_name=f"Xã {c}") for c in range(communes)]

        async def bind(unit_id: int, role: str, chat: int) -> None:
            person = Person(full_name=f"Người {chat}", role=role, unit_id=unit_id, created_at=now)
            s.add(person)
            await s.flush()
            s.add(ChannelAccount(channel="telegram", external_id=str(chat), person_id=person.id, created_at=now))

        staff = [STAFF_BASE + c for c in range(communes)]
        for c, unit in enumerate(units):
            assert unit.id is not None
            await bind(unit.id, "staff", staff[c])
        idle_chats = [IDLE_BASE + i for i in range(idle)]
        codes = []
        for i in range(idle + heads):
            village = await add_unit(s, period="post2025", code=f"V{i}", level="village", name=f"{i}",
                                     parent=units[i % communes], type="thôn", full_name=f"Thôn {i}")
            if i < idle:
                assert village.id is not None
                await bind(village.id, "village_head", idle_chats[i])
            else:
                codes.append((await create_invite(s, village, "village_head", now - timedelta(minutes=1))).code)
        await s.flush()
    return People(codes, idle_chats, staff)


def sends_to(fake: FakeTelegram, chat: int) -> int:
    return sum(1 for _, c in fake.send_log if c == str(chat))


def _question(fake: FakeTelegram, user_id: int, value: str) -> dict[str, Any] | None:
    return next((m for m in reversed(fake.sent) if m["chat"]["id"] == user_id and value in {
        b.get("callback_data") for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row}), None)


async def drive(d: Deployment, user_id: int, steps: list[Step], answered: list[float], lost: list[str],
                wait: float) -> None:
    """One head: a step, then wait for the bot's answer to it (any message to this chat), then the next.
    A step not answered within ``wait`` seconds is lost (the head gives up)."""
    fake = d.fake
    for kind, arg in steps:
        before = sends_to(fake, user_id)
        try:
            if kind == "say":
                update = fake.user_message(user_id, arg)
            else:  # the question with this button may still be on its way (a step's answer can be two messages)
                await until(lambda arg=arg: _question(fake, user_id, arg) is not None, f"{user_id}: button {arg}",
                            wait)  # type: ignore[misc]
                question = _question(fake, user_id, arg)
                assert question is not None
                update = fake.callback(user_id, arg, question["message_id"])
            fake.updates.remove(update)  # webhook mode: the dispatcher delivers it, nobody polls
            t0 = time.monotonic()
            await d.post(update)
            await until(lambda before=before: sends_to(fake, user_id) > before, f"{user_id} answered to {arg}",
                        wait)  # type: ignore[misc]
        except AssertionError:
            lost.append(f"{user_id}:{arg}")
            return
        answered.append(time.monotonic() - t0)


async def unprompted(sessions: SessionFactory) -> list[OutboxMessage]:
    async with sessions() as s:
        return list((await s.execute(select(OutboxMessage))).scalars().all())


async def recipients(sessions: SessionFactory) -> dict[int, str]:
    async with sessions() as s:
        rows = (await s.execute(select(ChannelAccount.id, ChannelAccount.external_id))).all()
    return {int(r[0]): str(r[1]) for r in rows}


async def quiet(fake: FakeTelegram, seconds: float = 0.5) -> None:
    """Until nothing was sent for ``seconds`` (every answer in flight has arrived)."""
    await until(lambda: not fake.send_log or time.monotonic() - fake.send_log[-1][0] >= seconds, "quiet")


async def all_sent(sessions: SessionFactory, digests: int = 0, wait: float = 60.0) -> list[str]:
    """Until every unprompted message is sent and the digests of ``digests`` communes are among them;
    the rows still not sent after ``wait`` seconds."""
    left: list[str] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        rows = await unprompted(sessions)
        left = [f"{r.key} {r.status} {r.last_error or ''}" for r in rows if r.status != "sent"]
        if not left and len({r.key.split(":")[1] for r in rows if r.kind == "digest"}) >= digests:
            return []
        await asyncio.sleep(0.1)
    return left


@dataclass
class Result:
    steps: int  # updates posted
    seconds: float  # the heads' run, first step to last answer
    lost: list[str]  # steps never answered
    doubled: int  # messages beyond what the script gives every head alike, and unprompted ones sent twice
    unsent: list[str]  # unprompted messages not sent (or sent fewer times than enqueued)
    rejected: int  # 429s the stand-in answered
    leaders: list[str]  # the scheduler's leaders, in order
    max_per_second: int  # most sends in any one-second window (the stand-in's bucket allows bursts above 30)
    max_chat_per_second: int  # most sends to one chat in any one-second window
    posted: dict[str, int]  # updates per worker
    logs: str

    def line(self) -> str:
        return (f"{self.steps} steps in {self.seconds:.1f}s = {self.steps / self.seconds:.1f} steps/s; "
                f"429s {self.rejected}; lost {len(self.lost)}; doubled {self.doubled}; unsent {len(self.unsent)}; "
                f"leader changes {len(self.leaders) - 1}; peak {self.max_per_second}/s overall, "
                f"{self.max_chat_per_second}/s per chat; updates per worker {self.posted}")


async def scenario(sessions: SessionFactory, url: str, tmp: Path, *, workers: int, heads: int, idle: int,
                   communes: int, lease_seconds: int = 6, wait: float = 30.0) -> Result:
    """Start the workers, let the heads report while the scheduled run goes out, kill the leader
    half-way, let the rest carry on (a standby takes the scheduler over), stop; what happened."""
    people = await seed(sessions, heads, idle, communes)
    async with FakeTelegram(token=TOKEN) as fake:
        fake.rate_limit(30, 30)  # Telegram: about 30 messages a second overall...
        fake.chat_rate_limit(1, 3)  # ...and about one a second per chat, short bursts tolerated
        d = Deployment(fake, url, tmp, lease_seconds=lease_seconds)
        leaders: list[str] = []
        answered: list[float] = []
        lost: list[str] = []
        unsent: list[str] = []

        async def watch() -> None:
            while True:
                w = await d.leader()
                if w is not None and (not leaders or leaders[-1] != w.name):
                    leaders.append(w.name)
                await asyncio.sleep(0.2)

        watcher: asyncio.Task[None] | None = None
        scripts = {HEAD_BASE + i: script(code) for i, code in enumerate(people.codes)}
        half = len(script("X")) // 2
        t0 = t1 = time.monotonic()
        try:
            await d.start(workers)
            watcher = asyncio.create_task(watch())
            await until(lambda: bool(leaders), "a leader")
            first = next(w for w in d.workers if w.name == leaders[0])
            t0 = time.monotonic()
            # the heads start reporting while the leader's scheduled run sends reminders and digests
            await asyncio.gather(*(drive(d, u, s[:half], answered, lost, wait) for u, s in scripts.items()))
            unsent += await all_sent(sessions, digests=communes)
            await quiet(fake)
            d.kill(first)  # the leader dies half-way (between two drains: what it claimed would wait for its lease)
            await asyncio.gather(*(drive(d, u, s[half:], answered, lost, wait) for u, s in scripts.items()
                                   if not any(x.startswith(f"{u}:") for x in lost)))
            t1 = time.monotonic()
            # the scheduler carries on: a standby takes the lease and drains what is enqueued next
            await until(lambda: len(leaders) > 1, "a new leader", 4 * lease_seconds)
            new = next(w for w in d.workers if w.name == leaders[-1])
            account = {ext: acc for acc, ext in (await recipients(sessions)).items()}[str(people.staff[0])]
            async with transaction(sessions) as s:
                await enqueue(s, key="after-takeover", kind="notice", account_id=account, text="Sau khi đổi máy",
                              now=utcnow())
            await until(lambda: "daily digest:" in new.output(), "the new leader caught up (nothing new: all keyed)")
            unsent += await all_sent(sessions)
            await quiet(fake)
        finally:
            if watcher is not None:
                watcher.cancel()
            await d.stop()
        rows = await unprompted(sessions)
        chats = await recipients(sessions)
        unsent += [f"{r.key} {r.status}" for r in rows if r.status != "sent"]
        expected = Counter(chats[r.account_id] for r in rows)
        doubled = 0
        for chat in people.idle + people.staff:  # they get nothing but unprompted messages
            got = sends_to(fake, chat)
            doubled += max(0, got - expected[str(chat)])
            unsent += [f"{chat}: {expected[str(chat)] - got} fewer"] if got < expected[str(chat)] else []
        # a head's answers: what it got minus the unprompted messages it got (a reminder once bound, say)
        per_head = [sends_to(fake, u) - expected[str(u)] for u in scripts
                    if not any(x.startswith(f"{u}:") for x in lost)]
        doubled += sum(n - min(per_head) for n in per_head) if per_head else 0
        chat_peak = max((fake.max_sends_within(1.0, c) for c in {c for _, c in fake.send_log}), default=0)
        return Result(steps=sum(d.posted.values()), seconds=max(t1 - t0, 1e-9), lost=lost, doubled=doubled,
                      unsent=sorted(set(unsent)), rejected=fake.rejected, leaders=leaders,
                      max_per_second=fake.max_sends_within(1.0), max_chat_per_second=chat_peak, posted=d.posted,
                      logs="\n".join(f"--- {w.name}\n{w.output()[-3000:]}" for w in d.workers))
