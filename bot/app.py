"""The composition root: builds everything from the config, in a visible order, and runs it.

Order: database engine → session factory → HTTP client session → dialog engine → web app →
channels (Telegram, Zalo, web chat) → scheduler. Stopped in reverse. Nothing is built at import time.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.base import Channel
from bot.config import Config
from handlers.context import Settings
from handlers.engine import Engine
from models.db import SessionFactory, make_engine, make_session_factory

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
    channels: dict[str, Channel] = field(default_factory=dict)
    scheduler: object | None = None
    runner: web.AppRunner | None = None
    served: list[str] = field(default_factory=list)


def engine_settings(config: Config) -> Settings:
    """The part of the config the conversations see."""
    from scheduler import rules_from_config

    return Settings(tz=config.tz, period=config.bot.period,
                    conversation_timeout=timedelta(days=config.bot.conversation_timeout_days),
                    max_message_chars=config.bot.max_message_chars,
                    campaign_election_date=config.reminders.election_date,
                    invite_valid_days=config.bot.invite_valid_days, public_url=config.web.public_url,
                    reminder_rules=rules_from_config(config.reminders))


async def build(config: Config) -> App:
    engine = make_engine(config.database.url, echo=config.database.echo)
    sessions = make_session_factory(engine)
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90))
    from bot.web.server import make_web_app

    dialog = Engine(sessions, engine_settings(config))
    app = App(config=config, engine=engine, sessions=sessions, http=http, web_app=web.Application(),
              dialog=dialog)
    try:
        app.web_app = make_web_app(app)
        await _add_channels(app)
        app.scheduler = _make_scheduler(app)
    except BaseException:  # a channel refused its config: close what is already open
        await http.close()
        await engine.dispose()
        raise
    return app


async def _add_channels(app: App) -> None:
    """Each configured channel registers itself (and its webhook route, if any)."""
    cfg = app.config
    if cfg.telegram.token is not None:
        from bot.channels.telegram import TelegramChannel

        app.channels["telegram"] = TelegramChannel(app)
    if cfg.zalo.token is not None:
        from bot.channels.zalo import ZaloChannel

        app.channels["zalo"] = ZaloChannel(app)
    try:
        from bot.web.chat import WebChatChannel
    except ImportError:
        return
    if cfg.web.enabled:
        app.channels["web"] = WebChatChannel(app)


def _make_scheduler(app: App) -> object | None:
    if not app.config.scheduler.enabled:
        return None
    try:
        from scheduler import Scheduler
    except ImportError:
        return None
    return Scheduler(app)


async def start(app: App) -> None:
    cfg = app.config
    if cfg.web.enabled:
        app.runner = web.AppRunner(app.web_app, access_log=None)
        await app.runner.setup()
        site = web.TCPSite(app.runner, cfg.web.host, cfg.web.port)
        await site.start()
        app.served.append(f"web: http://{cfg.web.host}:{cfg.web.port}/")
    for name, channel in app.channels.items():
        await channel.start()
        app.served.append(f"channel: {name}")
    if app.scheduler is not None:
        await app.scheduler.start()  # type: ignore[attr-defined]
        app.served.append("scheduler: reminders, digests, outbox")


async def stop(app: App) -> None:
    if app.scheduler is not None:
        await app.scheduler.stop()  # type: ignore[attr-defined]
    for channel in reversed(list(app.channels.values())):
        try:
            await channel.stop()
        except Exception:
            log.exception("stopping a channel failed")
    if app.runner is not None:
        await app.runner.cleanup()
    await app.http.close()
    await app.engine.dispose()


async def run(config: Config) -> None:
    """``python -m bot run``: start everything, say what is served, stop cleanly on a signal."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every run of every job
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
