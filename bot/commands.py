"""The bodies of the CLI commands. Each opens the engine it needs and closes it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config
from models.clock import local_date, utcnow
from models.db import SessionFactory, make_engine, make_session_factory, transaction


@asynccontextmanager
async def _database(config: Config) -> AsyncIterator[tuple[AsyncEngine, SessionFactory]]:
    engine = make_engine(config.database.url, echo=config.database.echo)
    try:
        yield engine, make_session_factory(engine)
    finally:
        await engine.dispose()


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


async def cmd_db(config: Config, args: argparse.Namespace) -> int:
    from bot.dbadmin import upgrade

    async with _database(config) as (engine, _):
        await upgrade(engine)
    print("database schema is up to date")
    return 0


async def cmd_units(config: Config, args: argparse.Namespace) -> int:
    from models.units import UnitFileError, import_units, parse_unit_file

    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        return _fail(f"{args.file}: {exc.strerror}")
    async with _database(config) as (_, factory):
        try:
            rows = parse_unit_file(raw, period=args.period)
            async with transaction(factory) as session:
                created, updated = await import_units(session, rows)
        except UnitFileError as exc:
            return _fail(f"{args.file}: {exc} — nothing imported")
    print(f"{len(rows)} units read, {created} created, {updated} updated")
    return 0


async def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from models.demo import seed_demo
    from models.tables import Unit

    async with _database(config) as (_, factory):
        async with transaction(factory) as session:
            if args.if_empty and (await session.execute(select(func.count()).select_from(Unit))).scalar_one():
                print("demo data: the database already has units, left as it is")
                return 0
            villages = await seed_demo(session, config.bot.period)
            extra = await _seed_demo_extras(session, config)
    print(f"demo data: {villages} villages generated in period {config.bot.period}")
    for line in extra:
        print(line)
    return 0


async def _seed_demo_extras(session, config: Config) -> list[str]:  # type: ignore[no-untyped-def]
    """Hook for the web part's demo accounts; returns lines to print."""
    try:
        from bot.web.demo import seed_web_demo
    except ImportError:
        return []
    return await seed_web_demo(session, config)


async def cmd_invite(config: Config, args: argparse.Namespace) -> int:
    from models.people import InviteError, create_invite
    from models.units import get_unit

    is_village = args.invite_cmd == "village"
    code = args.code if is_village else args.unit
    role = "village_head" if is_village else args.role
    async with _database(config) as (_, factory):
        async with transaction(factory) as session:
            unit = await get_unit(session, config.bot.period, code)
            if unit is None:
                return _fail(f"no unit with code {code} in period {config.bot.period}")
            try:
                invite = await create_invite(session, unit, role, utcnow(), config.bot.invite_valid_days)
            except InviteError as exc:
                return _fail(f"cannot invite {role} for {unit.level} {code}: {exc.reason}")
    print(f"invite for {role} of {unit.full_name} ({unit.code}), valid {config.bot.invite_valid_days} days:")
    print(invite.code)
    return 0


async def cmd_webuser(config: Config, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.web.security import hash_password, new_password
    from models.tables import WebUser
    from models.units import get_unit

    password = new_password()
    async with _database(config) as (_, factory), transaction(factory) as session:
        user = (await session.execute(select(WebUser).where(WebUser.username == args.username))).scalar_one_or_none()
        unit = await get_unit(session, config.bot.period, args.unit) if args.unit else None
        if args.unit and (unit is None or unit.level == "village"):
            return _fail(f"no commune, district or province with code {args.unit} in period {config.bot.period}")
        if user is None:
            if unit is None:
                return _fail("a new user needs --unit")
            session.add(WebUser(username=args.username, password_hash=hash_password(password), role=args.role,
                                unit_id=unit.id, created_at=utcnow()))
        else:
            user.password_hash, user.failed_logins, user.locked_until = hash_password(password), 0, None
            user.role = args.role
            if unit is not None:
                user.unit_id = unit.id
    print(f"dashboard login {args.username} ({args.role}); new password:")
    print(password)
    return 0


async def cmd_export(config: Config, args: argparse.Namespace) -> int:
    from handlers.export import export_csv, export_xlsx
    from models.units import get_unit

    today = local_date(utcnow(), config.tz)
    async with _database(config) as (_, factory):
        async with factory() as session:
            scope_id = None
            if args.unit:
                unit = await get_unit(session, config.bot.period, args.unit)
                if unit is None:
                    return _fail(f"no unit with code {args.unit} in period {config.bot.period}")
                scope_id = unit.id
            writer = export_xlsx if args.format == "xlsx" else export_csv
            data = await writer(session, config.bot.period, today, scope_id)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out}")
    return 0


async def cmd_digest(config: Config, args: argparse.Namespace) -> int:
    try:
        from scheduler import digest_command
    except ImportError:
        return _fail("digest: not available yet")
    return await digest_command(config, args)


async def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from bot.app import run

    await run(config)
    return 0
