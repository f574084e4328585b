"""Fixtures for the web part: a migrated SQLite file with demo data and demo accounts, the real app
behind aiohttp's test client, and the real app served on loopback for the browser tests."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bot import app as app_module
from bot.config import Config, load_config
from models.clock import local_date, utcnow
from models.db import make_engine, make_session_factory, transaction
from models.demo.story import seed_story
from models.demo.units import seed_demo
from models.demo.web import seed_web_demo
from tests.conftest import run_sync

DEMO_VILLAGES = 150  # enough for every commune to have two or more; the full 1,452 take seconds


@dataclass
class Demo:
    """What ``seed_web_demo`` printed: logins with their passwords, and the web-chat village heads."""

    path: Path
    passwords: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # username → unit code
    heads: list[tuple[str, str]] = field(default_factory=list)  # (account external id, village code)
    lines: list[str] = field(default_factory=list)


def parse_demo_lines(lines: list[str]) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    passwords, units, heads = {}, {}, []
    for line in lines:
        if m := re.match(r"^\s+(\w+)\s+([a-z0-9-]{19})\s+(\w+)\s+.*\((\w+)\)$", line):
            passwords[m[1]], units[m[1]] = m[2], m[4]
        elif m := re.match(r"^\s+.*\[([\w.]+)\]$", line):
            heads.append((f"demo-{m[1]}", m[1]))
    return passwords, units, heads


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    path = tmp_path_factory.mktemp("webdemo") / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    config = make_config(path, 0)

    async def _seed() -> list[str]:
        engine = make_engine(config.database.url)
        try:
            async with transaction(make_session_factory(engine)) as session:
                await seed_demo(session, config.bot.period, total_villages=DEMO_VILLAGES)
                return await seed_web_demo(session, config.bot.period, config.web.base_url, giaoban=False)
        finally:
            await engine.dispose()

    lines = run_sync(_seed())
    assert isinstance(lines, list)
    passwords, units, heads = parse_demo_lines(lines)
    return Demo(path, passwords, units, heads, lines)


@pytest.fixture(scope="session")
def full_demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo ``make run`` makes (``python -m bot demo``): the province's 1,452 villages, the logins,
    the giao ban round and the campaign's story, all dated from today."""
    path = tmp_path_factory.mktemp("fulldemo") / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    config = make_config(path, 0)

    async def _seed() -> list[str]:
        engine = make_engine(config.database.url)
        try:
            async with transaction(make_session_factory(engine)) as session:
                await seed_demo(session, config.bot.period)
                lines = await seed_web_demo(session, config.bot.period, config.web.base_url)
                await seed_story(session, config.bot.period, local_date(utcnow(), config.tz))
                return lines
        finally:
            await engine.dispose()

    lines = run_sync(_seed())
    assert isinstance(lines, list)
    passwords, units, heads = parse_demo_lines(lines)
    return Demo(path, passwords, units, heads, lines)


@pytest.fixture
def full_demo(full_demo_template: Demo, tmp_path: Path) -> Demo:
    path = tmp_path / "bot.sqlite3"
    shutil.copy(full_demo_template.path, path)
    return Demo(path, full_demo_template.passwords, full_demo_template.units, full_demo_template.heads,
                full_demo_template.lines)


@pytest.fixture
def demo(demo_template: Demo, tmp_path: Path) -> Demo:
    """A copy of the seeded database for this test."""
    path = tmp_path / "bot.sqlite3"
    shutil.copy(demo_template.path, path)
    return Demo(path, demo_template.passwords, demo_template.units, demo_template.heads, demo_template.lines)


def make_config(db_path: Path, port: int, **web: object) -> Config:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db_path}", "WEB_PORT": str(port),
           "WEB_SECRET_KEY": "test-secret-key"}
    config = load_config(None, env=env)
    config.scheduler.enabled = False
    config.scheduler.files_dir = str(db_path.parent / "outbox")  # built downloads, not in the work tree
    config.reminders.congress_deadline = None  # the pages' statuses do not depend on the real date
    config.web.login_max_failures = 3
    for key, value in web.items():
        setattr(config.web, key, value)
    return config


@pytest.fixture
async def web_app(demo: Demo) -> AsyncIterator[app_module.App]:
    app = await app_module.build(make_config(demo.path, 0))
    try:
        yield app
    finally:
        await app_module.stop(app)


@pytest.fixture
async def client(aiohttp_client, web_app: app_module.App) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(web_app.web_app)


CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF field on the page"
    return m[1]


async def login(client: TestClient, username: str, password: str) -> int:
    """Log in through the form like a browser; returns the status of the POST (303 on success)."""
    page = await (await client.get("/login")).text()
    resp = await client.post("/login", data={"csrf": csrf_of(page), "username": username, "password": password},
                             allow_redirects=False)
    return resp.status


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The real app (``bot.app.build`` + ``start``) on 127.0.0.1, in a thread with its own loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.url = f"http://127.0.0.1:{config.web.port}"
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._ready.clear()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        assert self._ready.wait(30), "the server did not start"

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = await app_module.build(self.config)
        try:
            await app_module.start(app)
            self._ready.set()
            await self._stop.wait()
        finally:
            await app_module.stop(app)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)


def _serve(demo: Demo) -> Iterator[LiveServer]:
    """The real app on loopback over ``demo``'s database, stopped after the test."""
    config = make_config(demo.path, free_port())
    config.web.host = "127.0.0.1"
    server = LiveServer(config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def full_live_server(full_demo: Demo) -> Iterator[LiveServer]:
    """The real app on loopback over the full demo (today's real date: the demo is dated from it)."""
    yield from _serve(full_demo)


@pytest.fixture
def live_server(demo: Demo) -> Iterator[LiveServer]:
    yield from _serve(demo)
