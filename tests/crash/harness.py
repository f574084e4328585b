"""The crash harness: the real ``python -m bot run`` process against the stand-in Telegram or Zalo
server and PostgreSQL, village heads reporting an election while the process is killed (SIGKILL),
stopped (SIGTERM) or cut off from its database, and restarted. Used by ``tests/crash`` (small) and
``bench/bench_crash.py`` (large).

What it checks at the end, from the stand-in's record and the database:
- every update the platform delivered (polling: confirmed or handed out; webhook: answered 200)
  was processed (its ``processed_message`` row), and none is left in the inbox;
- every reply row was sent, and the user received each exactly once (``doubled`` counts the extra
  copies, ``lost`` the updates never processed plus the replies never received);
- every saved election report's head received the receipt; no head is stuck mid-report.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import select

from bot.channels.telegram_webhook import SECRET_HEADER as TG_SECRET_HEADER
from bot.channels.zalo import SECRET_HEADER as ZALO_SECRET_HEADER
from bot.channels.zalo_files import FileStore
from bot.channels.zalo_render import render as zalo_render
from handlers.reply_codec import decode
from models.accounts.people import create_invite
from models.accounts.tables import ChannelAccount
from models.db import SessionFactory, transaction
from models.delivery import inbox, outbox
from models.delivery.tables import InboxMessage, OutboxMessage, ProcessedMessage
from models.election.tables import ElectionReport
from models.units.tables import Unit
from models.units.tree import add_unit
from tests.crash.process import BotProcess, free_port
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from texts.catalog import t

TOKEN_TG = "123456789:CRASH-telegram-token"
TOKEN_ZALO = "1459232241454:crash-zalo-token"
SECRET = "crash-webhook-secret_0123456789"
SCRIPT = ["/start {code}", "/baucu", "15/12/2024", "Nguyễn Văn An", "400", "380", "350", "320", "1", "không", "1", "co"]
RECEIPT = "Đã lưu kết quả bầu trưởng thôn"
IN_DOUBT = 0.5  # seconds between a send and a SIGKILL within which the send's mark may not have happened
DELAYED = t("intake.delayed")
POLL_TIMEOUT = 2
GAP = 2.0  # seconds after getUpdates handed an update within which a kill may find it not yet written down
GAP_WAIT = 10.0  # seconds without an answer before a head whose message Zalo consumed sends it again


@dataclass
class Plan:
    links: list[tuple[str, str]]  # (telegram | zalo, polling | webhook): channels the one process serves
    users: int = 2  # heads per link
    signals: list[int] = field(default_factory=lambda: [signal.SIGKILL, signal.SIGKILL])  # one per kill
    outage: float = 0.0  # seconds without the database (through the proxy), instead of kills
    seed: int = 0
    reply_wait: float = 60.0  # how long a head waits for an answer before giving up (stuck)
    lease: float | None = None  # the outbox leases (reply and drain); short, so a crash's replies go soon
    journal: bool = True  # Zalo polling: the poll journal (off only to measure what it saves)


@dataclass
class Result:
    tries: int = 0  # updates sent
    kills: int = 0
    stops: int = 0  # SIGTERM
    lost: int = 0
    doubled: int = 0  # copies sent again that no kill explains
    in_doubt: int = 0  # copies sent again of a message whose send a SIGKILL cut from its mark
    superseded: int = 0  # replies a crash left that the conversation had moved past: dropped, not resent
    gap: int = 0  # Zalo polling: updates getUpdates handed to a process killed before it wrote them down
    windows: list[float] = field(default_factory=list)  # Zalo polling: s from getUpdates' answer to the inbox row
    kill_times: list[float] = field(default_factory=list)
    outages: int = 0
    told: int = 0  # "the system is interrupted, your message is kept" notices (database outage)
    stuck: int = 0
    missing_receipts: int = 0
    reports: int = 0
    expected: int = 0  # reply messages the outbox rows say were sent (each to be received once)
    received: int = 0  # of those, received
    disturbed: list[tuple[float, float]] = field(default_factory=list)  # kill, stop or outage: from, to
    exchanges: list[tuple[float, float]] = field(default_factory=list)  # a head's message: sent, answered
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"tries {self.tries}, kills {self.kills}, stops {self.stops}, lost {self.lost}, doubled {self.doubled} "
                f"(+{self.in_doubt} sent just before a kill, unmarked), "
                f"lost in Zalo's getUpdates gap {self.gap} (resent by the head), "
                f"stuck {self.stuck}, reports {self.reports}, receipts missing {self.missing_receipts}, "
                f"outages {self.outages}, told to wait {self.told}{self.window_line()}")

    def recovery(self) -> float | None:
        """Seconds from a disturbance's end (the kill, the stop, the database's return) to the answer
        of a message in flight across it, the longest; None without such a message."""
        waits = []
        for sent, answered in self.exchanges:
            ends = [end for start, end in self.disturbed if sent < end and start < answered]
            if ends:
                waits.append(max(0.0, answered - max(ends)))
        return max(waits) if waits else None

    def window_line(self) -> str:
        """Zalo polling: from getUpdates' answer to the inbox row (the window a journal-less bot has)."""
        if not self.windows:
            return ""
        ordered = sorted(self.windows)
        ms = [1000 * ordered[int(q * (len(ordered) - 1))] for q in (0.5, 0.95)] + [1000 * ordered[-1]]
        return f"; answer to inbox row ms p50 {ms[0]:.1f} p95 {ms[1]:.1f} max {ms[2]:.1f} (n {len(ordered)})"


def write_config(path: Path, plan: Plan, fake_urls: dict[str, str], web_port: int, files: Path) -> None:
    lease = plan.lease if plan.lease is not None else 3 + 2 * plan.outage  # outlives a send's mark retries
    modes = dict(plan.links)
    lines = ["[scheduler]", "outbox_drain_seconds = 0.5", f"reply_lease_seconds = {lease}", f"lease_seconds = {lease}",
             "backoff_seconds = 1",
             'reminder_cron = "0 3 1 1 *"', 'digest_daily_cron = "0 3 1 1 *"', 'digest_weekly_cron = "0 3 1 1 *"',
             "campaign_daily_digest = false", f'files_dir = "{files / "outbox"}"',
             "", "[web]", 'host = "127.0.0.1"', f"port = {web_port}", "enabled = true", ""]
    if "telegram" in modes:
        lines += ["[telegram]", f'token = "{TOKEN_TG}"', f'api_base_url = "{fake_urls["telegram"]}"',
                  f'mode = "{modes["telegram"]}"',
                  f"poll_timeout = {POLL_TIMEOUT}", "chat_per_second = 1000", "chat_burst = 100",
                  "menu_commands = false",
                  'webhook_url = "https://bot.example.vn/telegram/webhook"', f'webhook_secret = "{SECRET}"', ""]
    if "zalo" in modes:
        lines += ["[zalo]", f'token = "{TOKEN_ZALO}"', f'api_base_url = "{fake_urls["zalo"]}"',
                  f'mode = "{modes["zalo"]}"',
                  f"poll_timeout = {POLL_TIMEOUT}", "backoff_initial = 0.2", "backoff_max = 2",
                  f'webhook_secret = "{SECRET}"', f"poll_journal = {'true' if plan.journal else 'false'}",
                  'webhook_url = "https://bot.example.vn/zalo/webhook"', f'files_dir = "{files / "zalo"}"']
    path.write_text("\n".join(lines) + "\n")


async def make_villages(sessions: SessionFactory, n: int) -> list[str]:
    """A province, a commune, ``n`` villages; an invite code for each village."""
    now = datetime.now(UTC)
    async with transaction(sessions) as s:
        p = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None,
                           full_name="Tỉnh Quảng Ninh")
        c = await add_unit(s, period="post2025", code="C1", level="commune", name="Hà Tu", parent=p,
                           type="phường", full_name="Phường Hà Tu")
        villages: list[Unit] = [await add_unit(s, period="post2025", code=f"V{i}", level="village", name=str(i),
                                               parent=c, type="thôn", full_name=f"Thôn {i}") for i in range(1, n + 1)]
        return [(await create_invite(s, v, "village_head", now)).code for v in villages]


class Platform:
    """The stand-in, as seen by the heads: send a message, see the answers; the webhook is retried
    until the bot answers 200, as Telegram and Zalo do."""

    def __init__(self, plan: Plan, channel: str, mode: str, fake: FakeTelegram | FakeZalo, web_port: int) -> None:
        self.plan, self.channel, self.mode, self.fake = plan, channel, mode, fake
        path = "/telegram/webhook" if channel == "telegram" else "/zalo/webhook"
        self.url = f"http://127.0.0.1:{web_port}{path}"
        self.header = TG_SECRET_HEADER if channel == "telegram" else ZALO_SECRET_HEADER
        self.keys: list[str] = []  # inbox keys of everything sent
        self.update_ids = itertools.count(1)
        self.stamps: dict[tuple[str, str], list[float]] = {}  # (chat, text) → when each copy was sent
        original = fake.handlers["sendMessage"]

        async def stamped(params: dict[str, Any]) -> Any:
            answer = await original(params)
            self.stamps.setdefault((str(params.get("chat_id")), str(params.get("text"))), []).append(time.monotonic())
            return answer

        fake.handlers["sendMessage"] = stamped
        self.handed: dict[str, float] = {}  # Zalo polling: update key → when getUpdates handed it out
        self.handed_at: dict[str, datetime] = {}  # the same, by the wall clock (the inbox row's clock)
        if isinstance(fake, FakeZalo):
            get_updates = fake.handlers["getUpdates"]

            async def handed(params: dict[str, Any]) -> Any:
                update = await get_updates(params)
                message = update["message"]
                self.handed[f"{message['from']['id']}:{message['message_id']}"] = time.monotonic()
                self.handed_at[f"{message['from']['id']}:{message['message_id']}"] = datetime.now(UTC)
                return update

            fake.handlers["getUpdates"] = handed

    def in_gap(self, key: str, result: Result) -> bool:
        """Handed out by Zalo's getUpdates just before a kill: consumed, but not yet written down. (A killed
        process's long poll does not take updates: the stand-in, like a server, drops a closed request.)"""
        when = self.handed.get(key)
        return when is not None and any(when <= k <= when + GAP for k in result.kill_times)

    def user_id(self, index: int) -> int | str:
        return 5000 + index if self.channel == "telegram" else f"z{5000 + index}"

    def received(self, user: int | str) -> list[str]:
        return self.fake.sent_to(user)  # type: ignore[arg-type]

    def answers(self, user: int | str) -> int:
        """Messages that answer something (not the "kept, will be handled" notice of an outage)."""
        return sum(1 for m in self.received(user) if m != DELAYED)

    async def send(self, user: int | str, text: str, http: aiohttp.ClientSession) -> None:
        fake, push = self.fake, self.mode == "polling"
        if isinstance(fake, FakeTelegram):
            update = fake.user_message(int(user), text, push=push)
            if not push:
                update["update_id"] = next(self.update_ids)
            message = update["message"]
            self.keys.append(f"m{message['chat']['id']}:{message['message_id']}")
        else:
            update = {"event_name": "message.text.received", "message": fake.message(str(user), text=text)}
            fake.know(str(user))  # the user wrote: Zalo lets the bot answer (also when it comes by webhook)
            if push:
                fake.push_event(update)
            self.keys.append(f"{user}:{update['message']['message_id']}")  # Zalo's ids: within a sender
        if push:
            return
        deadline = time.monotonic() + 3 * self.plan.reply_wait  # (a bot that never comes back fails the run)
        while time.monotonic() < deadline:  # the platform retries until it gets a 2xx
            try:
                async with http.post(self.url, json=update, headers={self.header: SECRET}) as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"the webhook at {self.url} never answered 200: the bot did not come back")


async def written(sessions: SessionFactory, channel: str, key: str) -> bool:
    async with sessions() as s:
        return await inbox.is_done(s, channel, key) is not None


async def head(platform: Platform, index: int, code: str, result: Result, http: aiohttp.ClientSession,
               rng: random.Random, sessions: SessionFactory) -> None:
    """One village head going through the report, waiting for each answer like a person."""
    user = platform.user_id(index)
    for text in SCRIPT:
        before = platform.answers(user)
        sent = time.monotonic()
        await platform.send(user, text.format(code=code), http)
        result.tries += 1
        start = time.monotonic()
        while platform.answers(user) <= before:
            waited = time.monotonic() - start
            if waited > GAP_WAIT and platform.in_gap(platform.keys[-1], result) and not await written(
                    sessions, platform.channel, platform.keys[-1]):
                result.gap += 1  # a person would send it again: so does the head
                platform.keys.pop()
                await platform.send(user, text.format(code=code), http)
                result.tries += 1
                start = time.monotonic()
            elif waited > platform.plan.reply_wait:
                result.stuck += 1
                result.problems.append(f"head {user} got no answer to {text!r}")
                return
            await asyncio.sleep(0.05)
        result.exchanges.append((sent, time.monotonic()))
        await asyncio.sleep(rng.uniform(0.0, 0.15))


async def expected_texts(channel: str, payload: str | None, text: str, files: FileStore) -> list[str]:
    reply = decode(payload, text)
    if channel == "telegram":
        return [reply.text]
    return [part.text for part in await zalo_render(reply, files, ZoneInfo("Asia/Ho_Chi_Minh"), photos=False)]


async def check(plan: Plan, platform: Platform, sessions: SessionFactory, result: Result, files: FileStore) -> None:
    channel = platform.channel
    async with sessions() as s:
        processed = set((await s.execute(select(ProcessedMessage.message_id)
                                         .where(ProcessedMessage.channel == channel))).scalars().all())
        left = await inbox.pending(s, channel)
        rows = (await s.execute(select(OutboxMessage, ChannelAccount.external_id)
                                .join(ChannelAccount, ChannelAccount.id == OutboxMessage.account_id)
                                .where(ChannelAccount.channel == channel))).all()
        reports = (await s.execute(select(ElectionReport.village_id, ElectionReport.updated_by_account_id)
                                   .join(ChannelAccount, ChannelAccount.id == ElectionReport.updated_by_account_id)
                                   .where(ChannelAccount.channel == channel))).all()
        accounts = dict((await s.execute(select(ChannelAccount.id, ChannelAccount.external_id))).all())
        received = dict((await s.execute(select(InboxMessage.key, InboxMessage.received_at)
                                         .where(InboxMessage.channel == channel))).all())
    for key, handed_at in platform.handed_at.items():  # how long a consumed update was in the bot's hands only
        at = received.get(key)
        if at is not None:
            result.windows.append((at.replace(tzinfo=at.tzinfo or UTC) - handed_at).total_seconds())
    unprocessed = [k for k in platform.keys if k not in processed]
    gap = [k for k in unprocessed if platform.in_gap(k, result)]
    unprocessed = [k for k in unprocessed if k not in gap]
    result.gap += len(gap)  # the head's answer came from an earlier message's second part: it did not resend
    result.lost += len(unprocessed)
    if unprocessed or left:
        result.problems.append(f"updates not processed: {unprocessed}; left in the inbox: {[p.key for p in left]}")
    expected: dict[str, Counter[str]] = {}
    maybe: dict[str, Counter[str]] = {}  # dropped as superseded: received once if sent before a kill, or never
    for row, external_id in rows:
        if row.status == "skipped" and row.last_error == outbox.SUPERSEDED:
            result.superseded += 1
            for text in await expected_texts(channel, row.payload, row.text, files):
                maybe.setdefault(external_id, Counter())[text] += 1
            continue
        if row.status != "sent":
            if row.kind != "reply":  # a reminder the scheduler derived meanwhile: not this load's concern
                continue
            result.lost += 1
            result.problems.append(f"outbox {row.key} left {row.status}")
            continue
        for text in await expected_texts(channel, row.payload, row.text, files):
            expected.setdefault(external_id, Counter())[text] += 1
    for index in range(plan.users):
        user = platform.user_id(index)
        got, want = Counter(platform.received(user)), expected.get(str(user), Counter())
        result.told += got.pop(DELAYED, 0)
        result.expected += sum(want.values())
        result.received += sum((got & want).values())
        extra, missing = got - want - maybe.get(str(user), Counter()), want - got
        for text, n in extra.items():
            first = platform.stamps.get((str(user), text), [0.0])[0]
            if any(first <= k <= first + IN_DOUBT for k in result.kill_times):
                result.in_doubt += n  # sent, then killed before the mark: at-least-once can do no better
            else:
                result.doubled += n
                result.problems.append(f"head {user}: received {n + want[text]} times {text!r}")
        result.lost += sum(missing.values())
        if missing:
            result.problems.append(f"head {user}: never received {dict(missing)}")
    result.reports += len(reports)
    for _village, account_id in reports:
        user = accounts.get(account_id)
        if user is None or not any(RECEIPT in m for m in platform.received(user)):
            result.missing_receipts += 1
            result.problems.append(f"the report of account {user} got no receipt")


Disturb = Callable[[BotProcess, Result, random.Random, asyncio.Event], Awaitable[None]]


async def kills(bot: BotProcess, plan: Plan, result: Result, rng: random.Random, done: asyncio.Event) -> None:
    """Kill (or stop) the bot at random points of the load, restart it at once."""
    for sig in plan.signals:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), rng.uniform(0.2, 1.0))
        if done.is_set():
            return
        now = time.monotonic()
        result.disturbed.append((now, now))
        if sig == signal.SIGKILL:
            result.kill_times.append(now)
            result.kills += 1
        else:
            result.stops += 1
        code = await bot.signal(sig)
        if sig == signal.SIGTERM and code != 0:
            result.problems.append(f"SIGTERM: the bot exited with {code}")
        await bot.start()


async def run(plan: Plan, database_url: str, sessions: SessionFactory, tmp: Path,
              disturb: Disturb | None = None,
              bot_database_url: str | None = None) -> Result:
    """One scripted load with its disturbances; the checks at the end. ``bot_database_url``: where the
    bot reaches the database (a proxy), if not ``database_url``."""
    rng = random.Random(plan.seed)
    result = Result()
    codes = await make_villages(sessions, plan.users * len(plan.links))
    fakes: dict[str, FakeTelegram | FakeZalo] = {}
    for channel, _mode in plan.links:
        fakes[channel] = FakeTelegram(token=TOKEN_TG) if channel == "telegram" else FakeZalo(token=TOKEN_ZALO)
        await fakes[channel].start()
    web_port = free_port()
    config = tmp / "crash.toml"
    write_config(config, plan, {c: f.base_url for c, f in fakes.items()}, web_port, tmp)
    bot = BotProcess(config, bot_database_url or database_url, tmp / "bot.log")
    platforms = [Platform(plan, channel, mode, fakes[channel], web_port) for channel, mode in plan.links]
    files = FileStore(tmp / "files", "x" * 32, "http://127.0.0.1", "/files", ttl_seconds=60)
    try:
        await bot.start()
        done = asyncio.Event()
        async with aiohttp.ClientSession() as http:
            chaos = asyncio.create_task(disturb(bot, result, rng, done) if disturb is not None
                                        else kills(bot, plan, result, rng, done))
            await asyncio.gather(*(head(platform, i, codes[n * plan.users + i], result, http, rng, sessions)
                                   for n, platform in enumerate(platforms) for i in range(plan.users)))
            done.set()
            await chaos
        await settle(sessions, list(fakes.values()))
        await bot.signal(signal.SIGTERM)
        for platform in platforms:
            await check(plan, platform, sessions, result, files)
    finally:
        await bot.close()
        for fake in fakes.values():
            await fake.stop()
    return result


async def settle(sessions: SessionFactory, fakes: list[FakeTelegram | FakeZalo], wait: float = 60.0) -> None:
    """Until nothing is left to send or process (a crash's replies wait for their lease)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        async with sessions() as s:
            busy = (await s.execute(select(OutboxMessage.id).where(OutboxMessage.kind == "reply").where(
                OutboxMessage.status.in_(  # type: ignore[attr-defined]
                ["pending", "sending"])).limit(1))).first()
            left = [p for c in ("telegram", "zalo") for p in await inbox.pending(s, c, limit=1)]
        if busy is None and not left and not any(f.updates for f in fakes):  # polling: all fetched too
            return
        await asyncio.sleep(0.2)
