"""The unit a staff command names first, by its code or its name (``models.units.names``), and the
words after it. Unknown, or a name that fits several units of the staff member's scope: said so (the
several listed with their codes), and the command changes nothing."""

from __future__ import annotations

from handlers.context import Context, StaffContext
from models.progress.digest import parent_names
from models.units.names import Named, find_named
from models.units.tables import Unit
from texts.catalog import t

AMBIGUOUS_LIST_LIMIT = 20


def _shown(words: list[str]) -> str:
    """What the user meant as the name or code, for "not found": the words before the first one with a
    digit (a decision number, a date), or the first word when it has one (a code)."""
    if any(ch.isdigit() for ch in words[0]):
        return words[0]
    cut = next((i for i, w in enumerate(words) if any(ch.isdigit() for ch in w)), len(words))
    return " ".join(words[:cut])


async def named_unit(ctx: StaffContext, arg: str, usage: str,
                     level: str = "village") -> tuple[Unit, list[str]] | None:
    """The unit of ``level`` that ``arg`` names first, within the staff member's scope, and the words
    after its name; None when there is none or several (and the reply says which, or ``usage``)."""
    words = arg.split()
    if not words:
        ctx.say(t(usage))
        return None
    match = await find_named(ctx.session, ctx.scope_id, words, level)
    if not match.units:
        ctx.say(t(f"names.unknown_{level}", text=_shown(words)))
        return None
    if len(match.units) > 1:
        ctx.say(await _ambiguous(ctx, words[: len(words) - len(match.rest)], list(match.units), level))
        return None
    unit = await ctx.session.get(Unit, match.units[0].id)
    assert unit is not None
    return unit, list(match.rest)


async def _ambiguous(ctx: Context, said: list[str], units: list[Named], level: str) -> str:
    parents = await parent_names(ctx.session, [u.id for u in units[:AMBIGUOUS_LIST_LIMIT]])
    lines = [t(f"names.ambiguous_{level}", name=" ".join(said), n=len(units))]
    lines += [t("names.line", name=u.full_name or u.name, code=u.code, parent=parents.get(u.id, ""))
              for u in units[:AMBIGUOUS_LIST_LIMIT]]
    if len(units) > AMBIGUOUS_LIST_LIMIT:
        lines.append(t("names.more", n=len(units) - AMBIGUOUS_LIST_LIMIT))
    lines.append(t("names.use_code"))
    return "\n".join(lines)
