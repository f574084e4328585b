"""The command line (DESIGN §4): ``python -m bot <command> [--config PATH]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot import giaoban_cli
from bot.config import Config, ConfigError, load_config


def _parser() -> argparse.ArgumentParser:
    # --config is accepted before or after any (sub)command. Only the top level has a default: a
    # subcommand's own default would overwrite a --config given before it (argparse copies
    # sub-namespace defaults over the parent's values), so there it is SUPPRESS.
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--config", type=Path, default=None, help="config file (default: ./config.toml)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="config file (default: ./config.toml)")
    p = argparse.ArgumentParser(prog="python -m bot", description="Village report bot.", parents=[top])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", parents=[common], help="run the configured channels, the scheduler and the web server")

    db = sub.add_parser("db", parents=[common], help="database schema").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", parents=[common], help="create or upgrade the schema (Alembic)")

    units = sub.add_parser("units", parents=[common], help="administrative units").add_subparsers(
        dest="units_cmd", required=True)
    imp = units.add_parser("import", parents=[common], help="import a unit CSV file (one transaction)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--period", default=None, help="import only this period (e.g. post2025, pre2025)")
    mg = units.add_parser("merge", parents=[common], help="merge villages into a new one (history kept)")
    mg.add_argument("old", nargs="+", help="the codes of the villages merged")
    mg.add_argument("--into", required=True, help="the new village's code")
    mg.add_argument("--name", default=None, help="the new village's name")
    sp = units.add_parser("split", parents=[common], help="split a village into new ones (history kept)")
    sp.add_argument("old", help="the code of the village split")
    sp.add_argument("--into", required=True, nargs="+", help="the new villages' codes")
    sp.add_argument("--name", action="append", default=[], help="a new village's name (once per code, in order)")

    demo = sub.add_parser("demo", parents=[common], help="load the demo data (real units, generated villages)")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when units already exist")

    inv = sub.add_parser("invite", parents=[common], help="create one-time invite codes").add_subparsers(
        dest="invite_cmd", required=True)
    iv = inv.add_parser("village", parents=[common], help="invite the head of a village")
    iv.add_argument("code", help="the village code")
    ist = inv.add_parser("staff", parents=[common], help="invite committee staff")
    ist.add_argument("--unit", required=True, help="the code of the staff member's unit")
    ist.add_argument("--role", default="staff", choices=["staff", "admin"])

    wu = sub.add_parser("webuser", parents=[common],
                        help="create a dashboard login, or give an existing one a new password")
    wu.add_argument("username")
    wu.add_argument("--unit", help="the code of the user's unit (required for a new user)")
    wu.add_argument("--role", default="staff", choices=["staff", "admin"])

    ex = sub.add_parser("export", parents=[common], help="export one row per village")
    ex.add_argument("--format", choices=["csv", "xlsx"], default=None,
                    help="default: from --out's extension (.xlsx → xlsx), otherwise csv")
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--unit", default=None, help="only villages under this unit code")
    ex.add_argument("--labels", choices=["en", "vi"], default="en",
                    help="CSV headers and statuses: en (the column names and codes, default) or vi (Vietnamese)")

    dg = sub.add_parser("digest", parents=[common], help="print (and send) the digest for a unit")
    dg.add_argument("--unit", required=True)
    dg.add_argument("--send", action="store_true",
                    help="also enqueue it for the unit's staff; the running bot delivers it")
    giaoban_cli.add_parser(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    from bot import commands  # the command bodies; imported late so --help stays fast

    handler: Callable[[Config, argparse.Namespace], Coroutine[Any, Any, int]] = getattr(
        commands, f"cmd_{args.command}")
    try:
        return asyncio.run(handler(config, args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

