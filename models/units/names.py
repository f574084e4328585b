"""A staff command names a unit by its code or its name (DESIGN §4): ``/congnhan Đồng Tâm 12/QĐ-UBND
05/12/2026``, ``/chuany dong tam …``, ``/baulai 06592``.

The name is the longest prefix of the command's words that is, folded (any case, with or without
diacritics), a unit's name (``Đồng Tâm``) or full name (``Thôn Đồng Tâm``) within the staff member's
scope; a code is the first word alone. :func:`match_prefix` is the pure rule (a property test holds it);
:func:`find_named` reads the candidates of one scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.units.tables import Unit, UnitAncestor
from texts.catalog import fold


@dataclass(frozen=True, slots=True)
class Named:
    """A unit as a staff command may name it."""

    id: int
    code: str
    name: str
    full_name: str


@dataclass(frozen=True, slots=True)
class Match:
    """The units the longest matching prefix names (none, one, or several: ambiguous) and the words left."""

    units: tuple[Named, ...]
    rest: tuple[str, ...]


def _key(words: Sequence[str]) -> str:
    return fold(" ".join(words))


def match_prefix(words: Sequence[str], units: Sequence[Named]) -> Match:
    """The units named by the longest prefix of ``words``: a folded name or full name of any length, or
    (one word) a code, compared without case. Several units under that prefix: ambiguous, all returned
    (by code). No prefix names a unit: no units, every word left."""
    names: dict[str, dict[int, Named]] = {}
    codes: dict[str, dict[int, Named]] = {}
    for unit in units:
        for key in {_key([unit.name]), _key([unit.full_name])} - {""}:
            names.setdefault(key, {})[unit.id] = unit
        codes.setdefault(fold(unit.code), {})[unit.id] = unit
    for k in range(len(words), 0, -1):
        found = dict(names.get(_key(words[:k]), {}))
        if k == 1:
            found |= codes.get(fold(words[0]), {})
        if found:
            return Match(tuple(sorted(found.values(), key=lambda u: (u.code, u.id))), tuple(words[k:]))
    return Match((), tuple(words))


async def units_within(session: AsyncSession, scope_id: int, level: str = "village") -> list[Named]:
    """The units of ``level`` under ``scope_id`` (the scope itself included when it is of that level)."""
    rows = await session.execute(
        select(col(Unit.id), col(Unit.code), col(Unit.name), col(Unit.full_name))
        .join(UnitAncestor, col(UnitAncestor.descendant_id) == Unit.id)
        .where(col(UnitAncestor.ancestor_id) == scope_id, col(Unit.level) == level))
    return [Named(uid, code, name, full) for uid, code, name, full in rows.all() if uid is not None]


async def find_named(session: AsyncSession, scope_id: int, words: Sequence[str], level: str = "village") -> Match:
    """:func:`match_prefix` over the units of ``level`` within the scope."""
    if not words:
        return Match((), ())
    return match_prefix(words, await units_within(session, scope_id, level))
