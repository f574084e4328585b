"""Commands for the people who run the bot: ``db status`` (the current and the pending migrations) and
``check`` (config valid, database reachable, each platform token accepted: one line each). The
parsers of ``backup`` and ``restore`` (bot/backup_cli.py) are added here too."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.config import Config

CHECK_TIMEOUT = 20.0  # seconds for each platform's answer


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    sub.add_parser("check", parents=[common],
                   help="config valid, database reachable, tokens accepted by the platforms (one line each)")
    bk = sub.add_parser("backup", parents=[common],
                        help="back up the database, photos and files into one file (while the bot runs)")
    bk.add_argument("--out", type=Path, required=True, help="the backup file to write (.tar.gz)")
    rs = sub.add_parser("restore", parents=[common], help="restore a backup into an EMPTY database")
    rs.add_argument("file", type=Path)


async def migration_status(config: Config) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """(the revisions the database is at, the (revision, title) pairs still to apply, oldest first)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

    from bot.dbadmin import alembic_config
    from models.db import make_engine

    script = ScriptDirectory.from_config(alembic_config(config.database.url))

    def _current(connection: Connection) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(connection).get_current_heads())

    engine = make_engine(config.database.url, pool_size=1)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(_current)
    finally:
        await engine.dispose()
    pending = [(rev.revision, (rev.doc or "").splitlines()[0] if rev.doc else "")
               for rev in script.iterate_revisions("heads", current or "base") if rev.revision not in current]
    return current, list(reversed(pending))


async def db_status(config: Config) -> int:
    from bot.cli_errors import database_name

    current, pending = await migration_status(config)
    print(f"database: {database_name(config.database.url)}")
    print(f"current: {', '.join(current) if current else 'none (an empty database: python -m bot db upgrade)'}")
    if not pending:
        print("pending: none (the schema is up to date)")
    for revision, title in pending:
        print(f"pending: {revision}  {title}")
    return 0


async def cmd_check(config: Config, args: argparse.Namespace) -> int:
    """One line per check, ``ok`` or ``FAIL`` with why; exit 1 when one failed."""
    import aiohttp

    from bot.cli_errors import database_name, one_line

    lines: list[tuple[bool, str]] = [(True, f"config: ok ({args.config or 'config.toml'} and the environment)")]
    try:
        current, pending = await asyncio.wait_for(migration_status(config), CHECK_TIMEOUT)
    except Exception as exc:
        lines.append((False, f"database: FAIL {one_line(exc, config.database.url)}"))
    else:
        schema = (f"schema {current[0] if current else 'empty'}"
                  + (f", {len(pending)} migration(s) pending: python -m bot db upgrade" if pending else ", up to date"))
        lines.append((not pending, f"database: {'ok' if not pending else 'FAIL'} {database_name(config.database.url)}"
                                   f" ({schema})"))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT)) as http:
        lines.append(await _telegram(config) if config.telegram.token else (True, "telegram: not configured"))
        lines.append(await _zalo(config, http) if config.zalo.token else (True, "zalo: not configured"))
    for _, line in lines:
        print(line)
    return 0 if all(ok for ok, _ in lines) else 1


async def _telegram(config: Config) -> tuple[bool, str]:
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    cfg = config.telegram
    assert cfg.token is not None
    try:
        async with Bot(cfg.token.get_secret_value(), base_url=cfg.api_base_url) as bot:
            me = await asyncio.wait_for(bot.get_me(), CHECK_TIMEOUT)
    except InvalidToken:
        return False, f"telegram: FAIL the token was refused by {cfg.api_base_url}"
    except (TelegramError, OSError, TimeoutError) as exc:
        return False, f"telegram: FAIL {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return True, f"telegram: ok @{me.username} ({cfg.mode})"


async def _zalo(config: Config, http: object) -> tuple[bool, str]:
    import aiohttp

    from bot.channels.zalo_client import ZaloClient, ZaloError

    cfg = config.zalo
    assert cfg.token is not None and isinstance(http, aiohttp.ClientSession)
    try:
        me = await ZaloClient(cfg.token.get_secret_value(), cfg.api_base_url, http).get_me()
    except ZaloError as exc:
        return False, f"zalo: FAIL {exc}"
    name = me.get("account_name") or me.get("display_name") or me.get("id") or "?"
    return True, f"zalo: ok {name} ({cfg.mode})"
