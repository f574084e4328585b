"""The composition root: builds everything from the config, in a visible order, and runs it.

Order: database engine → session factory → HTTP client session → dialog engine → web app →
channels (Telegram, Zalo, web chat), each handed only what it uses, their routes added here →
outbox delivery → scheduler. Resources are opened in one ``AsyncExitStack``: a failure half-way
closes what was already open, and ``stop`` closes everything in reverse. Nothing is built at import.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.backup import scheduled_backup
from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_pacing import SharedChatRateLimiter
from bot.channels.zalo import ZaloChannel
from bot.config import Config
from bot.delivery import Outbox, RateLimiter
from bot.files import FileBuilder
from bot.logs import AccessLogger, setup_logging, warn_loudly
from bot.pacing import SharedRateLimiter
from bot.pipeline.worker import Worker
from bot.poll_guard import PollGuard, polling_tokens
from bot.settings import drain_policy, engine_settings, rules_from_config, scheduler_settings
from bot.web.chat import WebChatChannel
from bot.web.keys import FILES, SCHEDULER_STATUS
from bot.web.server import make_web_app
from handlers.engine import Engine
from models.accounts.access import Accounts
from models.clock import utcnow
from models.db import SessionFactory, is_postgres, make_engine, make_session_factory
from models.delivery.pacing import SharedPace
from reports.files import BuildConfig
from scheduler import Leadership, Scheduler

log = logging.getLogger("bot")


@dataclass
class App:
    """Everything one process runs, built by :func:`build`."""

    config: Config
    engine: AsyncEngine
    sessions: SessionFactory
    http: aiohttp.ClientSession
    web_app: web.Application
    dialog: Engine
    stack: AsyncExitStack
    channels: dict[str, Channel] = field(default_factory=dict)
    scheduler: Scheduler | None = None
    files: FileBuilder | None = None
    runner: web.AppRunner | None = None
    served: list[str] = field(default_factory=list)
    worker: Worker | None = None  # this process's lease: what it owns is taken over if it dies


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def make_scheduler(config: Config, sessions: SessionFactory, channels: dict[str, Channel],
                   clock: Callable[[], datetime] = utcnow, worker: str | None = None,
                   engine: AsyncEngine | None = None, files: FileBuilder | None = None) -> Scheduler:
    """The scheduler with its outbox delivery through ``channels`` (read at each drain). On
    PostgreSQL, where several workers may share the database, it runs only while it holds the lease
    (and, given the ``engine``, paces its sends in the calendar all workers share). Given the file
    builder ``files``, the digests of large units are computed in its worker process."""
    cfg = config.scheduler
    limiter = (SharedRateLimiter(engine, cfg.rate_per_second, cfg.per_chat_seconds) if engine is not None
               and is_postgres(engine) else RateLimiter(cfg.rate_per_second, cfg.per_chat_seconds))
    deliver = Outbox(sessions, channels, limiter, replace(drain_policy(config), owner=worker))
    leadership = None
    if config.database.url.startswith("postgresql"):
        holder = worker or worker_name()
        leadership = Leadership(holder, timedelta(seconds=cfg.leader_lease_seconds), workers=worker is not None)
    scheduler = Scheduler(scheduler_settings(config), sessions, deliver, clock, leadership,
                          build=files.file if files is not None else None,
                          draw=files.chart if files is not None else None,
                          backup=partial(scheduled_backup, config) if config.backup.cron else None)
    scheduler.on_job = metrics.observe_job
    return scheduler


def build_config(config: Config) -> BuildConfig:
    """What a file-building worker process needs to know."""
    return BuildConfig(url=config.database.url, period=config.bot.period,
                       rules=rules_from_config(config.reminders), files_dir=config.scheduler.files_dir)


def make_file_builder(config: Config, sessions: SessionFactory) -> FileBuilder:
    """The builder of the large exports and digests (a worker process, started on the first build)."""
    return FileBuilder(sessions, build_config(config), config.tz)


def shared_telegram_limiter(config: Config, engine: AsyncEngine) -> SharedChatRateLimiter | None:
    """On PostgreSQL the workers pace Telegram together (replies ahead of broadcasts); None: alone."""
    if not is_postgres(engine):
        return None
    cfg = config.telegram
    pace = SharedPace(engine, "telegram", cfg.rate_per_second, 1.0 / cfg.chat_per_second, burst=cfg.chat_burst)
    return SharedChatRateLimiter(pace, cfg.max_retries)


async def build(config: Config) -> App:
    stack = AsyncExitStack()
    try:
        engine = make_engine(config.database.url, echo=config.database.echo, pool_size=config.database.pool_size)
        stack.push_async_callback(engine.dispose)
        sessions = make_session_factory(engine)
        http = await stack.enter_async_context(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)))
        dialog = Engine(sessions, engine_settings(config))
        worker = Worker(sessions, worker_name())
        dialog.owner = worker.name
        dialog.observe = metrics.observe_step
        accounts = Accounts(sessions)
        web_chat = WebChatChannel(dialog) if config.web.enabled else None
        web_app = make_web_app(config, engine, sessions, dialog, web_chat)
        app = App(config=config, engine=engine, sessions=sessions, http=http, web_app=web_app, dialog=dialog,
                  stack=stack, worker=worker)
        if config.telegram.token is not None:
            app.channels["telegram"] = TelegramChannel(config.telegram, dialog, http, accounts,
                                                       limiter=shared_telegram_limiter(config, engine),
                                                       owner=worker.name)
        if config.zalo.token is not None:
            app.channels["zalo"] = ZaloChannel(config.zalo, config.web, config.tz, dialog, http, accounts,
                                               owner=worker.name)
        if web_chat is not None:
            app.channels["web"] = web_chat
        for channel in app.channels.values():
            for method, path, handler in channel.routes():
                web_app.router.add_route(method, path, handler)
        app.files = make_file_builder(config, sessions)
        web_app[FILES] = app.files
        if config.scheduler.enabled:
            app.scheduler = make_scheduler(config, sessions, app.channels, engine=engine, files=app.files,
                                           worker=worker.name)
            web_app[SCHEDULER_STATUS] = app.scheduler.status
    except BaseException:  # a part refused its config: close what is already open
        await stack.aclose()
        raise
    return app


async def start(app: App) -> None:
    cfg = app.config
    if cfg.web.enabled:
        access: dict[str, Any] = ({"access_log": logging.getLogger("bot.access"), "access_log_class": AccessLogger}
                                  if cfg.log.access_log else {"access_log": None})
        app.runner = web.AppRunner(app.web_app, **access)
        await app.runner.setup()
        app.stack.push_async_callback(app.runner.cleanup)
        await web.TCPSite(app.runner, cfg.web.host, cfg.web.port).start()
        app.served.append(f"web: http://{cfg.web.host}:{cfg.web.port}/")
        zalo = app.channels.get("zalo")
        if isinstance(zalo, ZaloChannel) and not cfg.web.public_url and app.runner.addresses:
            host, port = app.runner.addresses[0][:2]
            zalo.files.base_url = f"http://{host}:{port}"  # where this server really listens (port 0 in tests)
    if app.worker is not None:  # before the channels: their rows name it
        await app.worker.start()
        app.stack.push_async_callback(app.worker.stop)  # after the channels and the scheduler stopped
    guard = PollGuard(app.sessions, worker_name())
    app.stack.push_async_callback(guard.stop)  # after the channels stopped polling (the stack unwinds)
    polling = polling_tokens(cfg)
    for name, channel in app.channels.items():
        if name in polling:  # one poller per token: a second one refuses to start
            permit = await guard.take(name, polling[name])
            if isinstance(channel, TelegramChannel | ZaloChannel):
                channel.poll_permit = permit  # no poll while the lease is not held
        await channel.start()
        app.stack.push_async_callback(_stop_channel, name, channel)
        app.served.append(f"channel: {name}")
    if app.files is not None:
        await app.files.start()
        app.stack.push_async_callback(app.files.stop)
        app.served.append("file builder: large exports and digests")
    if app.scheduler is not None:
        await app.scheduler.start()
        app.stack.push_async_callback(app.scheduler.stop)
        app.served.append("scheduler: reminders, digests, outbox")


async def _stop_channel(name: str, channel: Channel) -> None:
    try:
        await channel.stop()
    except Exception:
        log.exception("stopping the %s channel failed", name)


async def stop(app: App) -> None:
    """Scheduler, channels, web server, HTTP session, database: the reverse of the start."""
    await app.stack.aclose()


async def run(config: Config, log_format: str | None = None) -> None:
    """``python -m bot run``: start everything, say what is served, stop cleanly on a signal."""
    setup_logging(log_format or config.log.format, tz=config.tz)
    warn_loudly(config)
    app = await build(config)
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_event.set)
    try:
        await start(app)
        for line in app.served:
            print(f"serving {line}", flush=True)
        if not app.served:
            print("nothing to serve: no channel configured and the web server is disabled", flush=True)
            return
        await stop_event.wait()
    finally:
        await stop(app)
