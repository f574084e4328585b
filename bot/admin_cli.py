"""The administrator's commands: ``webuser NAME --unit CODE`` (create a dashboard login, or give one a new
password), ``webuser list``, ``webuser disable NAME``, ``webuser enable NAME`` (``list``, ``disable`` and
``enable`` are not user names); ``invite list [--all]`` and ``invite revoke CODE``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.config import Config

if TYPE_CHECKING:  # the models are imported when a command runs, so that --help stays fast
    from models.db import SessionFactory

WEBUSER_ACTIONS = ("list", "disable", "enable")


def add_webuser_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                       common: argparse.ArgumentParser) -> None:
    wu = sub.add_parser("webuser", parents=[common], usage="python -m bot webuser NAME --unit CODE [--role ROLE] | "
                        "list | disable NAME | enable NAME",
                        help="dashboard logins: create one or give it a new password; list, disable, enable")
    wu.add_argument("first", metavar="NAME|list|disable|enable",
                    help="a user name (create, or a new password), or list, disable, enable")
    wu.add_argument("name", nargs="?", default=None, help="the user name to disable or enable")
    wu.add_argument("--unit", help="the code of the user's unit (required for a new user; with list: only under it)")
    wu.add_argument("--role", default=None, choices=["staff", "admin"],
                    help="staff (a new user's default) or admin; a new password alone keeps the role")


def add_invite_parsers(inv: argparse._SubParsersAction[argparse.ArgumentParser],
                       common: argparse.ArgumentParser) -> None:
    ls = inv.add_parser("list", parents=[common], help="the invites still open (newest first)")
    ls.add_argument("--all", action="store_true", help="also those used, revoked or expired")
    ls.add_argument("--unit", default=None, help="only invites for units under this code")
    rv = inv.add_parser("revoke", parents=[common], help="revoke an invite that is still open")
    rv.add_argument("code")


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _when(value: object, config: Config) -> str:
    from datetime import datetime

    return value.astimezone(config.tz).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "-"


async def cmd_webuser(config: Config, args: argparse.Namespace) -> int:
    from bot.core_cli import database

    action, name = (args.first, args.name) if args.first in WEBUSER_ACTIONS else ("set", args.first)
    if action in ("disable", "enable") and not name:
        return _fail(f"webuser {action} needs the user name: python -m bot webuser {action} NAME")
    if action in ("list", "set") and args.name:
        return _fail(f"unexpected {args.name!r}: python -m bot webuser NAME --unit CODE, or webuser list")
    async with database(config) as (_, sessions):
        if action == "list":
            return await _list_users(config, args, sessions)
        if action == "set":
            return await _set_password(config, args, sessions, name)
        from models.accounts.web_users import set_disabled
        from models.db import transaction

        async with transaction(sessions) as session:
            found = await set_disabled(session, name, action == "disable")
    if not found:
        return _fail(f"no dashboard login named {name!r} (python -m bot webuser list)")
    print(f"dashboard login {name} {'disabled; its sessions have ended' if action == 'disable' else 'enabled'}")
    return 0


async def _list_users(config: Config, args: argparse.Namespace, sessions: SessionFactory) -> int:
    from models.accounts.web_users import list_web_users
    from models.units.tree import get_unit

    async with sessions() as session:
        scope = await get_unit(session, config.bot.period, args.unit) if args.unit else None
        if args.unit and scope is None:
            return _fail(f"no unit with code {args.unit} in period {config.bot.period}")
        rows = await list_web_users(session, scope.id if scope is not None else None)
    print(f"{'username':<20} {'role':<6} {'unit':<10} {'last login':<16} state")
    for r in rows:
        print(f"{r.username:<20} {r.role:<6} {r.unit_code:<10} {_when(r.last_login_at, config):<16} "
              f"{'disabled' if r.disabled else 'active'}  {r.unit_name}")
    print(f"{len(rows)} login(s)")
    return 0


async def _set_password(config: Config, args: argparse.Namespace, sessions: SessionFactory, username: str) -> int:
    from models.accounts.access import web_user
    from models.accounts.passwords import hash_password, new_password
    from models.accounts.tables import WebUser
    from models.clock import utcnow
    from models.db import transaction
    from models.units.tree import get_unit

    password = new_password()
    async with transaction(sessions) as session:
        user = await web_user(session, username)
        unit = await get_unit(session, config.bot.period, args.unit) if args.unit else None
        if args.unit and (unit is None or unit.level == "village"):
            return _fail(f"no commune, district or province with code {args.unit} in period {config.bot.period}")
        if user is None:
            if unit is None:
                return _fail("a new user needs --unit")
            assert unit.id is not None  # a unit read from its table
            role = args.role or "staff"
            session.add(WebUser(username=username, password_hash=hash_password(password), role=role,
                                unit_id=unit.id, created_at=utcnow()))
        else:
            user.password_hash, user.failed_logins, user.locked_until = hash_password(password), 0, None
            user.session_epoch += 1  # a new password ends every session of the old one
            user.role = role = args.role or user.role  # an administrator's new password keeps him one
            if unit is not None:
                assert unit.id is not None  # a unit read from its table
                user.unit_id = unit.id
    print(f"dashboard login {username} ({role}); new password:")
    print(password)
    return 0


async def invite_admin(config: Config, args: argparse.Namespace, sessions: SessionFactory) -> int:
    """``invite list`` and ``invite revoke CODE``."""
    from models.accounts.web_users import invite_state, list_invites, revoke_invite
    from models.clock import utcnow
    from models.db import transaction
    from models.units.tree import get_unit

    now = utcnow()
    if args.invite_cmd == "revoke":
        async with transaction(sessions) as session:
            done = await revoke_invite(session, args.code, now)
        if isinstance(done, str):
            why = {"unknown": "there is no such invite", "used": "it has been used",
                   "revoked": "it was revoked already", "expired": "it has expired"}[done]
            return _fail(f"invite {args.code} not revoked: {why}")
        print(f"invite {done[0].code} for {done[1].full_name} ({done[1].code}) revoked")
        return 0
    async with sessions() as session:
        scope = await get_unit(session, config.bot.period, args.unit) if args.unit else None
        if args.unit and scope is None:
            return _fail(f"no unit with code {args.unit} in period {config.bot.period}")
        rows = await list_invites(session, now, scope.id if scope is not None else None, open_only=not args.all)
    print(f"{'code':<13} {'role':<13} {'unit':<12} {'expires':<16} state")
    for invite, unit in rows:
        print(f"{invite.code:<13} {invite.role:<13} {unit.code:<12} {_when(invite.expires_at, config):<16} "
              f"{invite_state(invite, now)}  {unit.full_name}")
    print(f"{len(rows)} invite(s){'' if args.all else ' open (--all: used, revoked and expired too)'}")
    return 0
