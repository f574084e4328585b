"""The typed keys under which the composition root hands the web server its services."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import Config
from bot.web.chat import WebChatChannel
from handlers.engine import Engine

CONFIG = web.AppKey("config", Config)
DB_ENGINE = web.AppKey("db_engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker)
DIALOG = web.AppKey("dialog", Engine)
WEB_CHAT = web.AppKey("web_chat", WebChatChannel)  # absent when the web chat is off
