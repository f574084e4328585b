"""The one command registry (DESIGN §4): name, aliases, who may use it, what it does, its texts.

The engine dispatches from it; the Telegram menu (``setMyCommands``), ``/trogiup`` on every channel
and the web chat's quick buttons are all read from it. Adding a command is an entry here, its
handler module, and its catalog keys (``commands.<name>.help``, optionally ``.short`` and ``.usage``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers import (
    binding,
    congress,
    election,
    giaoban,
    merger_staff,
    party,
    recognition_cmd,
    staff,
    status,
    tasks,
    vacancy_cmd,
)
from handlers.context import Context, HeadContext, StaffContext, as_head, as_staff
from handlers.flow import Flow
from texts.catalog import fold, has, t

HEADS = frozenset({"village_head"})
VILLAGE = frozenset({"village_head", "village_secretary"})  # the giao ban: whoever answers for the village
STAFF = frozenset({"staff", "admin"})
ANYONE: frozenset[str] = frozenset()  # no role needed (unbound accounts included)

Action = Callable[[Context, str], Awaitable[None]]


def for_heads(action: Callable[[HeadContext, str], Awaitable[None]]) -> Action:
    """A head's command: it sees the village as known (the registry allows it to heads only)."""
    async def run(ctx: Context, arg: str) -> None:
        head = as_head(ctx)
        if head is None:
            ctx.say(t("auth.heads_only"))
            return
        await action(head, arg)
    return run


def for_staff(action: Callable[[StaffContext, str], Awaitable[None]]) -> Action:
    """A staff command: it sees the scope unit as known (the registry allows it to staff only)."""
    async def run(ctx: Context, arg: str) -> None:
        staff = as_staff(ctx)
        if staff is None:  # a staff member with no scope unit
            ctx.say(t("staffcmd.no_scope"))
            return
        await action(staff, arg)
    return run


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    roles: frozenset[str]  # empty: anyone
    action: Action | None = None  # a one-message command...
    flow: Flow[Any, Any] | None = None  # ...or the conversation it starts
    aliases: tuple[str, ...] = ()
    menu: bool = True  # listed in /trogiup and the Telegram menu
    quick: bool = False  # a quick button in the web chat

    @property
    def help(self) -> str:
        return t(f"commands.{self.name}.help")

    @property
    def short(self) -> str:
        key = f"commands.{self.name}.short"
        return t(key) if has(key) else self.help

    def allows(self, role: str | None) -> bool:
        return not self.roles or role in self.roles

    def refusal(self, ctx: Context) -> str:
        if ctx.person is None:
            return t("auth.unbound")
        if self.roles == STAFF:
            return t("auth.staff_only")
        return t("auth.secretary_only_giaoban" if ctx.role == "village_secretary" else "auth.heads_only")


async def start_cmd(ctx: Context, arg: str) -> None:
    if not arg:
        binding.welcome(ctx)
        if ctx.person is not None:
            show_help(ctx)
    elif await binding.redeem(ctx, arg):
        show_help(ctx)


async def cancel_cmd(ctx: Context, arg: str) -> None:
    ctx.say(t("common.cancelled" if ctx.in_flow else "common.nothing_to_cancel"))
    ctx.end_flow = True


async def help_cmd(ctx: Context, arg: str) -> None:
    show_help(ctx)


def show_help(ctx: Context) -> None:
    ctx.say(help_text(ctx.role))


def help_text(role: str | None) -> str:
    """What this role can do: a heading and one line per command it may use."""
    if role is None:
        return t("help.unbound")
    village = role in VILLAGE
    general = ("huy", "trogiup") if village else ("trogiup",)  # staff have no conversation to cancel
    lines = [t("help.head" if role == "village_head" else "help.secretary" if village else "help.staff")]
    for c in COMMANDS:
        if c.menu and ((c.roles and c.allows(role)) or c.name in general):
            usage_key = f"commands.{c.name}.usage"
            lines.append(t("help.line", command=c.name, usage=t(usage_key) if has(usage_key) else "", text=c.help))
    return "\n".join(lines)


COMMANDS: tuple[Command, ...] = (
    Command("start", ANYONE, action=start_cmd),
    Command("baucu", HEADS, flow=election.FLOW, aliases=("election",), quick=True),
    Command("daihoi", HEADS, flow=congress.FLOW, aliases=("congress",), quick=True),
    Command("dangvien", HEADS, flow=party.FLOW, aliases=("party",)),
    Command("giaoban", VILLAGE, flow=giaoban.FLOW, aliases=("briefing",), quick=True),
    Command("nhiemvu", VILLAGE, flow=tasks.FLOW, aliases=("tasks",), quick=True),
    Command("thamdu", VILLAGE, flow=giaoban.ATTEND_FLOW, aliases=("attend",)),
    Command("trangthai", HEADS, action=for_heads(status.show_status), aliases=("status",), quick=True),
    Command("huy", ANYONE, action=cancel_cmd, aliases=("cancel",), quick=True),
    Command("trogiup", ANYONE, action=help_cmd, aliases=("help", "menu"), quick=True),
    Command("tonghop", STAFF, action=for_staff(staff.digest_now), aliases=("digest",), quick=True),
    Command("chamtre", STAFF, action=for_staff(staff.late_now), aliases=("late",), quick=True),
    Command("xuatfile", STAFF, action=for_staff(staff.export_now), aliases=("export",)),
    Command("nhantonghop", STAFF, action=for_staff(staff.digest_opt)),
    Command("ghidangvien", STAFF, action=for_staff(merger_staff.party_cmd)),
    Command("chuany", STAFF, action=for_staff(merger_staff.approve_cmd), aliases=("approve",)),
    Command("kehoachdaihoi", STAFF, action=for_staff(merger_staff.plan_cmd), aliases=("congressplan",)),
    Command("congnhan", STAFF, action=for_staff(recognition_cmd.recognise_cmd), aliases=("recognise",)),
    Command("baulai", STAFF, action=for_staff(recognition_cmd.new_vote_cmd), aliases=("revote",)),
    Command("khuyet", STAFF, action=for_staff(vacancy_cmd.vacancy_cmd), aliases=("vacancy",)),
    Command("lamthoi", STAFF, action=for_staff(vacancy_cmd.interim_cmd), aliases=("interim",)),
)
BY_NAME: dict[str, Command] = {name: c for c in COMMANDS for name in (c.name, *c.aliases)}
FLOWS: dict[str, Flow[Any, Any]] = {c.flow.name: c.flow for c in COMMANDS if c.flow is not None}


def parse_command(text: str) -> tuple[str | None, str]:
    """``/baucu@SomeBot arg`` → (``baucu``, ``arg``); folded, so ``/Hủy`` is ``huy``; aliases resolved."""
    if not text.startswith("/"):
        return (None, text)
    head, _, rest = text[1:].partition(" ")
    name = fold(head.split("@", 1)[0])
    found = BY_NAME.get(name)
    return (found.name if found else name, rest.strip())


def menu() -> list[tuple[str, str]]:
    """(command, description) for the Telegram menu, in registry order."""
    return [(c.name, c.help[:1].upper() + c.help[1:]) for c in COMMANDS if c.menu]


def quick() -> list[tuple[str, str, str]]:
    """(command, short label, the roles it is for — space-separated, empty: anyone) for the web chat's
    quick buttons; the page shows a button only to an account whose role may use it."""
    return [(c.name, c.short, " ".join(sorted(c.roles))) for c in COMMANDS if c.quick]
