"""``python -m bot privacy erase-head VILLAGE_CODE``: erase the personal data of a village head who left
office (models/personal_data.py says what is erased and what stays)."""

from __future__ import annotations

import argparse
import sys

from bot.config import Config


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    pv = sub.add_parser("privacy", parents=[common], help="personal data (Nghị định 13/2023/NĐ-CP)")
    cmds = pv.add_subparsers(dest="privacy_cmd", required=True)
    er = cmds.add_parser("erase-head", parents=[common],
                         help="a head who left office: erase his phone numbers and unbind his chat accounts")
    er.add_argument("village", help="the village code (its vacancy recorded first, with /khuyet)")


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


async def cmd_privacy(config: Config, args: argparse.Namespace) -> int:
    from bot.core_cli import database
    from models.clock import utcnow
    from models.db import transaction
    from models.election.erasure import ErasureError, erase_former_head
    from models.units.tree import get_unit

    async with database(config) as (_, sessions), transaction(sessions) as session:
        village = await get_unit(session, config.bot.period, args.village)
        if village is None or village.level != "village" or village.id is None:
            return _fail(f"no village with code {args.village} in period {config.bot.period}")
        try:
            done = await erase_former_head(session, village.id, utcnow())
        except ErasureError:
            return _fail(f"{village.full_name} ({village.code}): the head is in office; record the vacancy first "
                         "(/khuyet), then erase")
    print(f"{village.full_name} ({village.code}): phone numbers erased ({done.revisions} revision(s), "
          f"{done.audit_events} audit event(s)); {done.accounts} chat account(s) unbound")
    return 0
