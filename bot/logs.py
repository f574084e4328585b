"""Logging of ``python -m bot run``: times in ISO 8601 with the UTC offset, in ``bot.timezone``, as text
or as one JSON object per line (``--log-format json``, ``[log] format``), an access log line per HTTP
request, and the loud start-up warnings about settings that are only for a demonstration."""

from __future__ import annotations

import json
import logging
from datetime import datetime, tzinfo
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from bot.config import Config

DEV_SECRET = "dev-only-change-me"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def iso_time(record: logging.LogRecord, tz: tzinfo | None = None) -> str:
    """The record's time in ``tz`` (the bot's time zone; None: the machine's), ISO 8601 with the offset."""
    moment = datetime.fromtimestamp(record.created, tz) if tz is not None else datetime.fromtimestamp(
        record.created).astimezone()
    return moment.isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    def __init__(self, tz: tzinfo | None = None) -> None:
        super().__init__(TEXT_FORMAT)
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_time(record, self.tz)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"}``, the access log's fields and a traceback when there is one."""

    FIELDS = ("method", "path", "status", "duration_ms", "remote", "size")

    def __init__(self, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.tz = tz

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"time": iso_time(record, self.tz), "level": record.levelname, "logger": record.name,
                               "message": record.getMessage()}
        out.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(fmt: str = "text", level: int = logging.INFO, tz: tzinfo | None = None) -> None:
    """Log lines on stderr, their times in ``tz`` (``bot.timezone``: +07:00 whatever the machine's zone)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(tz) if fmt == "json" else TextFormatter(tz))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every run of every job


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path (without the query: it may carry a token), status, time, client."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        path = request.path
        if "/bot" in path:  # a platform's URL shape with a token in it: never logged
            path = path.split("/bot", 1)[0] + "/bot…"
        self.logger.info("%s %s %d %.1fms %s", request.method, path, response.status, time * 1000,
                         request.remote or "-",
                         extra={"method": request.method, "path": path, "status": response.status,
                                "duration_ms": round(time * 1000, 1), "remote": request.remote or "-",
                                "size": response.body_length})


def startup_warnings(config: Config) -> list[str]:
    """Settings for a demonstration on a machine others can reach: each a warning at start."""
    web = config.web
    public = bool(web.public_url) or web.host not in ("127.0.0.1", "localhost", "::1")
    found = []
    if web.secret_key.get_secret_value() == DEV_SECRET and public:
        found.append("WEB_SECRET_KEY is the development default while the server is reachable from outside "
                     f"({web.public_url or web.host}): anyone can forge a login cookie. Set a long random secret.")
    if web.chat_enabled and public:
        found.append("the open demo chat (/chat, web.chat_enabled) lets anyone act as any account and is reachable "
                     f"from outside ({web.public_url or web.host}): set web.chat_enabled = false.")
    return found


def warn_loudly(config: Config) -> None:
    log = logging.getLogger("bot")
    for line in startup_warnings(config):
        log.warning("!" * 20 + " UNSAFE SETTING " + "!" * 20)
        log.warning(line)
