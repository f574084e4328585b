"""The command line (DESIGN §4): ``python -m bot <command> [--config PATH]``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeAlias, cast

from bot import admin_cli, giaoban_cli, ops_cli, privacy_cli
from bot.config import Config, ConfigError, load_config

# what the modules' add_parser functions take
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class _Parser(argparse.ArgumentParser):
    """A usage error is one line too (the usage itself is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    # --config is accepted before or after any (sub)command. Only the top level has a default: a
    # subcommand's own default would overwrite a --config given before it (argparse copies
    # sub-namespace defaults over the parent's values), so there it is SUPPRESS.
    top = _Parser(add_help=False)
    top.add_argument("--config", type=Path, default=None, help="config file (default: ./config.toml)")
    top.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    common = _Parser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="config file (default: ./config.toml)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on an error, print the traceback too")
    p = _Parser(prog="python -m bot", description="Village report bot.", parents=[top])
    sub = cast(Subcommands, p.add_subparsers(dest="command", required=True, metavar="COMMAND"))

    rn = sub.add_parser("run", parents=[common], help="run the configured channels, the scheduler and the web server")
    rn.add_argument("--log-format", choices=["text", "json"], default=None,
                    help="log lines as text or one JSON object each (default: [log] format, text)")

    db = sub.add_parser("db", parents=[common], help="database schema").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", parents=[common], help="create or upgrade the schema (Alembic)")
    db.add_parser("status", parents=[common], help="the current and the pending migrations")

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
    iv = inv.add_parser("village", parents=[common], help="invite the head (or branch secretary) of a village")
    iv.add_argument("code", help="the village code")
    iv.add_argument("--role", default="head", choices=["head", "secretary"],
                    help="secretary: the branch secretary where the head is not (the giao ban goes to them)")
    ist = inv.add_parser("staff", parents=[common], help="invite committee staff")
    ist.add_argument("--unit", required=True, help="the code of the staff member's unit")
    ist.add_argument("--role", default="staff", choices=["staff", "admin"])
    admin_cli.add_invite_parsers(inv, common)
    admin_cli.add_webuser_parser(sub, common)

    ex = sub.add_parser("export", parents=[common], help="export one row per village")
    ex.add_argument("--format", choices=["csv", "xlsx"], default=None,
                    help="default: from --out's extension (.xlsx → xlsx), otherwise csv")
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--unit", default=None, help="only villages under this unit code")
    ex.add_argument("--with-phones", action="store_true",
                    help="include the heads' phone numbers (personal data: only when the use needs them)")
    ex.add_argument("--labels", choices=["en", "vi"], default="en",
                    help="CSV headers and statuses: en (the column names and codes, default) or vi (Vietnamese)")

    dg = sub.add_parser("digest", parents=[common], help="print (and send) the digest for a unit")
    dg.add_argument("--unit", required=True)
    dg.add_argument("--send", action="store_true",
                    help="also enqueue it for the unit's staff; the running bot delivers it")
    giaoban_cli.add_parser(sub, common)
    ops_cli.add_parsers(sub, common)
    privacy_cli.add_parser(sub, common)
    return p


# the module that holds ``cmd_<command>`` (default: bot.core_cli)
COMMAND_MODULES = {"webuser": "bot.admin_cli", "backup": "bot.backup_cli", "restore": "bot.backup_cli",
                   "check": "bot.ops_cli", "privacy": "bot.privacy_cli"}


def main(argv: list[str] | None = None) -> int:
    """Run one command. A failure is one plain line on stderr (``--debug``: the traceback too)."""
    args = _parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    url: str | None = None
    try:
        config = load_config(args.config)
        url = config.database.url
        module = importlib.import_module(COMMAND_MODULES.get(args.command, "bot.core_cli"))  # late: --help stays fast
        handler: Callable[[Config, argparse.Namespace], Coroutine[Any, Any, int]] = getattr(
            module, f"cmd_{args.command}")
        return asyncio.run(handler(config, args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every other failure: one line, never a traceback unless asked
        from bot.cli_errors import one_line

        if debug:
            traceback.print_exc()
        print(one_line(exc, url), file=sys.stderr)
        return 1
