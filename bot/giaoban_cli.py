"""``python -m bot giaoban schedule|pack``: schedule a meeting (its id on the last line), print the pack."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Config

if TYPE_CHECKING:  # the models are imported when a command runs, so that --help stays fast
    from models.db import DbSession, SessionFactory
    from models.units.tables import Unit


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    gb = sub.add_parser("giaoban", parents=[common], help="giao ban meetings: schedule one, print the pack")
    cmds = gb.add_subparsers(dest="giaoban_cmd", required=True)
    sc = cmds.add_parser("schedule", parents=[common], help="schedule a meeting (prints its id on the last line)")
    sc.add_argument("--unit", required=True, help="the commune's code")
    sc.add_argument("--at", required=True, help='local date and time, "YYYY-MM-DD HH:MM"')
    sc.add_argument("--place", default="", help="where the meeting is held")
    pk = cmds.add_parser("pack", parents=[common], help="print the briefing pack of a meeting")
    pk.add_argument("--unit", required=True, help="the commune's code")
    pk.add_argument("--meeting", type=int, default=None, help="the meeting id (default: the next, else the last)")
    cn = cmds.add_parser("cancel", parents=[common], help="cancel a meeting; its villages are told through the outbox")
    cn.add_argument("id", type=int, help="the meeting id (python -m bot giaoban schedule prints it)")


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


async def run(config: Config, args: argparse.Namespace, sessions: SessionFactory) -> int:
    from models.clock import utcnow
    from models.db import transaction
    from models.giaoban.meetings import schedule_meeting
    from models.refusal import Refused
    from models.units.tree import get_unit

    if args.giaoban_cmd == "cancel":
        return await _cancel(config, args, sessions)
    async with transaction(sessions) as session:
        unit = await get_unit(session, config.bot.period, args.unit)
        if unit is None or unit.level != "commune":
            return _fail(f"no commune with code {args.unit} in period {config.bot.period}")
        if args.giaoban_cmd == "pack":
            return await _pack(config, args, session, unit)
        try:
            starts = datetime.strptime(args.at.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=config.tz)
        except ValueError:
            return _fail(f'--at {args.at!r}: expected "YYYY-MM-DD HH:MM"')
        try:
            meeting = await schedule_meeting(session, unit, starts, args.place, utcnow())
        except Refused as exc:
            return _fail(f"cannot schedule the meeting: {exc.reason}")
    print(f"giao ban of {unit.full_name} ({unit.code}) on {args.at} {args.place}".rstrip() + "; meeting id:")
    print(meeting.id)
    return 0


async def _cancel(config: Config, args: argparse.Namespace, sessions: SessionFactory) -> int:
    """``giaoban cancel ID``: the same domain function as the meeting page's "Hủy cuộc họp"."""
    from models.clock import utcnow
    from models.db import transaction
    from models.giaoban.changes import cancel_meeting
    from models.refusal import Refused
    from reports.giaoban_text import renderer

    try:
        async with transaction(sessions) as session:
            view, told = await cancel_meeting(session, args.id, by=None, channel="cli", now=utcnow(),
                                              render=renderer(config.tz))
    except Refused as exc:
        why = {"no_meeting": "there is no such meeting", "meeting_started": "it has already started",
               "already_cancelled": "it is already cancelled"}.get(exc.reason, exc.reason)
        return _fail(f"cannot cancel giao ban meeting {args.id}: {why}")
    commune = view.commune
    print(f"giao ban meeting {view.meeting.id} of {commune.full_name} ({commune.code}) cancelled; "
          f"{told} message(s) to its villages enqueued (the running bot delivers them)")
    return 0


async def _pack(config: Config, args: argparse.Namespace, session: DbSession, unit: Unit) -> int:
    from bot.settings import rules_from_config
    from models.clock import utcnow
    from models.giaoban.meetings import get_meeting, latest_meeting
    from models.giaoban.pack import build_pack
    from reports.giaoban_text import render_pack

    now = utcnow()
    if args.meeting is not None:
        view = await get_meeting(session, args.meeting)
        if view is None or view.commune.id != unit.id:
            return _fail(f"no meeting {args.meeting} of {unit.code}")
    else:
        assert unit.id is not None  # a unit read from its table
        meeting = await latest_meeting(session, unit.id, now)
        view = await get_meeting(session, meeting.id) if meeting is not None and meeting.id is not None else None
        if view is None:
            return _fail(f"no giao ban meeting of {unit.code} yet (python -m bot giaoban schedule)")
    pack = await build_pack(session, view, rules_from_config(config.reminders), now.astimezone(config.tz).date())
    print(render_pack(pack, config.tz, limit=None))
    return 0
