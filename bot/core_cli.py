"""The bodies of the core CLI commands (run, db, units, invite, export, digest, demo, giaoban); the
others live beside it in `*_cli.py` modules. Each opens the engine it needs and closes it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config
from models.clock import local_date, utcnow
from models.db import SessionFactory, make_engine, make_session_factory, transaction


@asynccontextmanager
async def _database(config: Config) -> AsyncIterator[tuple[AsyncEngine, SessionFactory]]:
    engine = make_engine(config.database.url, echo=config.database.echo, pool_size=config.database.pool_size)
    try:
        yield engine, make_session_factory(engine)
    finally:
        await engine.dispose()


database = _database  # the other CLI modules' way to the database


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


async def cmd_db(config: Config, args: argparse.Namespace) -> int:
    from bot.dbadmin import upgrade

    if args.db_cmd == "status":
        from bot.ops_cli import db_status

        return await db_status(config)
    async with _database(config) as (engine, _):
        await upgrade(engine)
    print("database schema is up to date")
    return 0


async def cmd_units(config: Config, args: argparse.Namespace) -> int:
    from models.units.tree import UnitFileError, import_units, parse_unit_file

    if args.units_cmd in ("merge", "split"):
        return await _unit_change(config, args)
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


async def _unit_change(config: Config, args: argparse.Namespace) -> int:
    from models.clock import local_date, utcnow
    from models.units.changes import UnitChangeError, merge_villages, split_village

    now = utcnow()
    today = local_date(now, config.tz)
    async with _database(config) as (_, factory):
        try:
            async with transaction(factory) as session:
                if args.units_cmd == "merge":
                    new, told = await merge_villages(session, config.bot.period, args.old, args.into, args.name,
                                                     today, now)
                    done = f"{', '.join(args.old)} merged into {new.code} ({new.full_name})"
                else:
                    news, told = await split_village(session, config.bot.period, args.old, args.into, args.name,
                                                     today, now)
                    done = f"{args.old} split into {', '.join(u.code for u in news)}"
        except UnitChangeError as exc:
            return _fail(f"{exc} — nothing changed")
    print(f"{done}; {told} account(s) told")
    return 0


async def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    from models.demo.story import seed_story
    from models.demo.units import seed_demo
    from models.demo.web import demo_login_hint, seed_web_demo
    from models.units.tree import count_units

    async with _database(config) as (_, factory):
        async with transaction(factory) as session:
            if args.if_empty and await count_units(session):
                print("demo data: the database already has units, left as it is")
                for line in await demo_login_hint(session, config.web.base_url):
                    print(line)
                return 0
            villages = await seed_demo(session, config.bot.period)
            extra = await seed_web_demo(session, config.bot.period, config.web.base_url)
            fates = await seed_story(session, config.bot.period, local_date(utcnow(), config.tz)) if villages else {}
    print(f"demo data: {villages} villages generated in period {config.bot.period}")
    if fates:
        print(f"demo reports: {sum(fates.values()) - fates.get('no_report', 0)} villages with an election result "
              f"of {villages}; congresses: {fates.get('merged', 0)} merged, {fates.get('not_merged', 0)} not merged, "
              f"{fates.get('planned', 0)} planned, {fates.get('overdue', 0)} overdue")
    for line in extra:
        print(line)
    return 0


async def cmd_invite(config: Config, args: argparse.Namespace) -> int:
    from models.accounts.people import InviteError, create_invite
    from models.units.tree import get_unit

    if args.invite_cmd in ("list", "revoke"):
        from bot.admin_cli import invite_admin

        async with _database(config) as (_, sessions):
            return await invite_admin(config, args, sessions)
    is_village = args.invite_cmd == "village"
    code = args.code if is_village else args.unit
    role = VILLAGE_ROLE[args.role] if is_village else args.role
    async with _database(config) as (_, factory):
        async with transaction(factory) as session:
            unit = await get_unit(session, config.bot.period, code)
            if unit is None:
                return _fail(f"no unit with code {code} in period {config.bot.period}")
            try:
                invite = await create_invite(session, unit, role, utcnow(), config.bot.invite_valid_days)
            except InviteError as exc:
                return _fail(_invite_refusal(exc.reason, unit.full_name or unit.name, code, unit.level))
    print(f"invite for {role} of {unit.full_name} ({unit.code}), valid {config.bot.invite_valid_days} days:")
    print(invite.code)
    return 0


VILLAGE_ROLE = {"head": "village_head", "secretary": "village_secretary"}  # invite village --role
INVITE_REFUSALS = {
    "not_a_village": "{code} is {level} {name}, not a village: a village head's or secretary's invite needs a "
                     "village code (the codes of its villages look like {code}.01)",
    "staff_on_village": "{code} is the village {name}: a staff invite needs a commune, district or province code",
}


def _invite_refusal(reason: str, name: str, code: str, level: str) -> str:
    """The refusal in words a clerk understands (never the internal reason name)."""
    article = "an" if level[:1] in "aeiou" else "a"
    template = INVITE_REFUSALS.get(reason, "{code} ({name}): this invite cannot be made for it")
    return template.format(code=code, name=name, level=f"{article} {level}")


async def cmd_export(config: Config, args: argparse.Namespace) -> int:
    """Streamed from the database into ``--out`` (written beside it, then renamed into place)."""
    from models.units.tree import get_unit
    from reports.export import write_csv, write_xlsx

    today = local_date(utcnow(), config.tz)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    part = args.out.with_name(args.out.name + ".part")
    deadline = config.reminders.congress_deadline
    async with _database(config) as (_, factory):
        async with factory() as session:
            scope_id = None
            if args.unit:
                unit = await get_unit(session, config.bot.period, args.unit)
                if unit is None:
                    return _fail(f"no unit with code {args.unit} in period {config.bot.period}")
                scope_id = unit.id
            if export_format(args.format, args.out) == "xlsx":
                await write_xlsx(session, str(part), config.bot.period, today, scope_id, deadline,
                                 with_phones=args.with_phones)
            else:
                with part.open("w", encoding="utf-8-sig", newline="") as out:
                    await write_csv(session, out, config.bot.period, today, scope_id, deadline, args.labels,
                                    with_phones=args.with_phones)
    part.replace(args.out)
    print(f"wrote {args.out}")
    return 0


def export_format(given: str | None, out: Path) -> str:
    """``--format`` when given, else the one ``--out``'s extension names (``y.xlsx`` → xlsx), else CSV."""
    if given:
        return given
    return "xlsx" if out.suffix.lower() == ".xlsx" else "csv"


async def cmd_digest(config: Config, args: argparse.Namespace) -> int:
    """``python -m bot digest --unit CODE [--send]``: print the digest; with ``--send``, enqueue it for
    the unit's staff (the running bot, ``python -m bot run``, delivers it through its channels)."""
    from bot.settings import rules_from_config
    from models.progress.digest import compute
    from models.units.tree import get_unit
    from reports.digest_send import enqueue_digests
    from reports.digest_text import render_digest

    now = utcnow()
    today = now.astimezone(config.tz).date()
    rules = rules_from_config(config.reminders)
    async with _database(config) as (_, sessions):
        async with sessions() as session:
            unit = await get_unit(session, config.bot.period, args.unit)
            if unit is None:
                print(f"no unit with code {args.unit} in period {config.bot.period}")
                return 1
            print(render_digest(await compute(session, unit, rules, today), with_changes=False))
        if not getattr(args, "send", False):
            return 0
        stats = await enqueue_digests(sessions, rules=rules, period=config.bot.period, now=now, today=today,
                                      weekly=False, files_dir=Path(config.scheduler.files_dir), tz=config.tz,
                                      unit_id=unit.id, period_key=f"manual-{now.strftime('%Y%m%dT%H%M%S')}")
    print(f"\nenqueued for {stats.enqueued} staff account(s) of {unit.code}; "
          "the running bot (python -m bot run) delivers them")
    return 0


async def cmd_giaoban(config: Config, args: argparse.Namespace) -> int:
    """``python -m bot giaoban schedule|pack`` (bot/giaoban_cli.py)."""
    from bot.giaoban_cli import run

    async with _database(config) as (_, sessions):
        return await run(config, args, sessions)


async def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from bot.app import run

    await run(config, args.log_format)
    return 0
