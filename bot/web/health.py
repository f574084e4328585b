"""The operators' endpoints: ``/healthz`` (JSON: the database, this worker's scheduler role, the queues)
and ``/metrics`` (Prometheus text format, bot/metrics.py). Neither needs a login: the reverse proxy
keeps them to the monitoring host (deploy/nginx.conf)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Literal

from aiohttp import web

from bot import metrics
from bot.backup import newest_backup
from bot.web import keys
from models.accounts.access import ping
from models.clock import utcnow
from models.delivery.queue_stats import QueueStats, queue_stats

log = logging.getLogger("bot.web")


def _role(request: web.Request) -> str:
    status = request.app.get(keys.SCHEDULER_STATUS)
    return status() if status is not None else "off"


async def _stats(request: web.Request) -> QueueStats | None:
    """The queues now; None when the database does not answer."""
    try:
        await ping(request.app[keys.DB_ENGINE])
        async with request.app[keys.SESSIONS]() as session:
            return await queue_stats(session, utcnow())
    except Exception as exc:  # the point is to report it, whatever it is
        log.warning("health: the database did not answer (%s)", type(exc).__name__)
        return None


async def healthz(request: web.Request) -> web.Response:
    role = _role(request)
    stats = await _stats(request)
    if stats is None:
        return web.json_response({"ok": False, "database": "unreachable", "scheduler": role, "role": role},
                                 status=503)
    return web.json_response({"ok": True, "database": "ok", "scheduler": role, "role": role,
                              "inbox_pending": sum(stats.inbox_pending.values()),
                              "outbox_waiting": stats.outbox_waiting,
                              "outbox_oldest_seconds": round(stats.outbox_oldest_seconds, 1)})


async def metrics_page(request: web.Request) -> web.Response:
    stats = await _stats(request)
    backup = request.app[keys.CONFIG].backup
    newest: tuple[float, int] | Literal[False] | None = False  # no scheduled backup: no gauge
    if backup.cron:
        newest = await asyncio.to_thread(newest_backup, Path(backup.dir))
    body = metrics.render(stats, _role(request), database_up=stats is not None, backup=newest)
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})
