"""The typed keys under which the composition root hands the web server its services."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bot.config import Config
from bot.files import FileBuilder
from bot.web.chat import WebChatChannel
from handlers.engine import Engine
from models.db import DbEngine, SessionFactory

CONFIG = web.AppKey("config", Config)
DB_ENGINE: web.AppKey[DbEngine] = web.AppKey("db_engine")
SESSIONS: web.AppKey[SessionFactory] = web.AppKey("sessions")
DIALOG = web.AppKey("dialog", Engine)
WEB_CHAT = web.AppKey("web_chat", WebChatChannel)  # absent when the web chat is off
# "leader", "standby" or "single" (no leadership needed); absent when the scheduler is off
SCHEDULER_STATUS: web.AppKey[Callable[[], str]] = web.AppKey("scheduler_status")
FILES = web.AppKey("files", FileBuilder)  # the builder of large files (absent: built in a thread)
