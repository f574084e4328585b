"""Administrative units: import from CSV, the closure table, look-ups and scope."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.units.tables import LEVELS, Unit, UnitAncestor

REQUIRED_COLUMNS = ("level", "code", "name", "parent_code", "type")
# Ba Chẽ's post-2025 code differs between sources (vn-admin/SOURCE.md): accept both on input.
CODE_ALIASES = {("post2025", "06970"): "06978"}


class UnitFileError(ValueError):
    """A unit file was refused; ``line`` is the 1-based line number in the file."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UnitRow:
    line: int
    level: str
    code: str
    name: str
    parent_code: str
    type: str
    full_name: str
    period: str


def _nfc(value: str | None) -> str:
    return unicodedata.normalize("NFC", (value or "").strip())


def parse_unit_file(raw: bytes, period: str | None = None) -> list[UnitRow]:
    """Parse a unit CSV (BOM, CRLF and NFD tolerated); refuse with a line number otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UnitFileError(line, "the file is not UTF-8") from None
    text = unicodedata.normalize("NFC", text)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UnitFileError(1, f"missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    rows: list[UnitRow] = []
    for rec in reader:
        line = reader.line_num
        if None in rec:
            raise UnitFileError(line, "too many fields")
        absent = [c for c in header if rec.get(c) is None]
        if absent:
            raise UnitFileError(line, f"{len(header) - len(absent)} of {len(header)} fields, "
                                      f"missing {', '.join(absent)}")
        row_period = _nfc(rec.get("period")) or (period or "post2025")
        if period is not None and row_period != period:
            continue
        level = _nfc(rec["level"]).lower()
        if level not in LEVELS:
            raise UnitFileError(line, f"unknown level {level!r} (expected one of {', '.join(LEVELS)})")
        code, name = _nfc(rec["code"]), _nfc(rec["name"])
        if not code:
            raise UnitFileError(line, "empty code")
        if not name:
            raise UnitFileError(line, "empty name")
        rows.append(UnitRow(line, level, code, name, _nfc(rec["parent_code"]), _nfc(rec["type"]),
                            _nfc(rec.get("full_name")) or name, row_period))
    return rows


async def import_units(session: AsyncSession, rows: Sequence[UnitRow]) -> tuple[int, int]:
    """Insert new units and update changed names; returns (created, updated). The caller commits.

    Raises :class:`UnitFileError` (duplicate code, missing parent, parent of a wrong level) before
    writing anything.
    """
    seen: dict[tuple[str, str], UnitRow] = {}
    for row in rows:
        key = (row.period, row.code)
        if key in seen:
            raise UnitFileError(row.line, f"duplicate code {row.code} (first on line {seen[key].line})")
        seen[key] = row
    existing = {(u.period, u.code): u for u in await _units_in_periods(session, {r.period for r in rows})}
    for row in rows:
        if row.level == LEVELS[0] or (row.level == "province" and not row.parent_code):
            continue
        parent_key = (row.period, CODE_ALIASES.get((row.period, row.parent_code), row.parent_code))
        parent = seen.get(parent_key) or existing.get(parent_key)
        if not row.parent_code or parent is None:
            raise UnitFileError(row.line, f"parent {row.parent_code or '(empty)'} of {row.code} not found")
        if LEVELS.index(parent.level) >= LEVELS.index(row.level):
            raise UnitFileError(row.line, f"parent {row.parent_code} is a {parent.level}, not above {row.level}")
    created = updated = 0
    # parents first: sort by level rank, file order within a level
    for row in sorted(rows, key=lambda r: LEVELS.index(r.level)):
        key = (row.period, row.code)
        unit = existing.get(key)
        parent_key = (row.period, CODE_ALIASES.get((row.period, row.parent_code), row.parent_code))
        parent = existing.get(parent_key) if row.parent_code else None
        if unit is None:
            unit = Unit(period=row.period, code=row.code, level=row.level, name=row.name, type=row.type,
                        full_name=row.full_name, parent_id=parent.id if parent else None,
                        depth=(parent.depth + 1) if parent else 0)
            session.add(unit)
            await session.flush()
            await _add_closure(session, unit, parent)
            existing[key] = unit
            created += 1
        elif (unit.name, unit.type, unit.full_name, unit.level) != (row.name, row.type, row.full_name, row.level):
            unit.name, unit.type, unit.full_name, unit.level = row.name, row.type, row.full_name, row.level
            session.add(unit)
            updated += 1
    await session.flush()
    return created, updated


async def _units_in_periods(session: AsyncSession, periods: Iterable[str]) -> list[Unit]:
    result = await session.execute(select(Unit).where(col(Unit.period).in_(list(periods))))
    return list(result.scalars().all())


async def _add_closure(session: AsyncSession, unit: Unit, parent: Unit | None) -> None:
    assert unit.id is not None
    session.add(UnitAncestor(ancestor_id=unit.id, descendant_id=unit.id, distance=0))
    if parent is not None:
        rows = (await session.execute(
            select(col(UnitAncestor.ancestor_id), col(UnitAncestor.distance))
            .where(col(UnitAncestor.descendant_id) == parent.id)
        )).all()
        for ancestor_id, distance in rows:
            session.add(UnitAncestor(ancestor_id=ancestor_id, descendant_id=unit.id, distance=distance + 1))


async def add_unit(session: AsyncSession, *, period: str, code: str, level: str, name: str,
                   parent: Unit | None, type: str = "", full_name: str = "") -> Unit:
    """Create one unit under ``parent`` with its closure rows (used for generated villages)."""
    unit = Unit(period=period, code=code, level=level, name=name, type=type, full_name=full_name or name,
                parent_id=parent.id if parent else None, depth=(parent.depth + 1) if parent else 0)
    session.add(unit)
    await session.flush()
    await _add_closure(session, unit, parent)
    return unit


async def get_unit(session: AsyncSession, period: str, code: str) -> Unit | None:
    code = CODE_ALIASES.get((period, code), code)
    return (await session.execute(
        select(Unit).where(col(Unit.period) == period, col(Unit.code) == code))).scalar_one_or_none()


async def count_by_level(session: AsyncSession, period: str) -> dict[str, int]:
    rows = (await session.execute(
        select(col(Unit.level), func.count()).where(col(Unit.period) == period).group_by(col(Unit.level))
    )).all()
    return {level: n for level, n in rows}


async def is_within(session: AsyncSession, unit_id: int, scope_id: int) -> bool:
    """Whether ``unit_id`` is ``scope_id`` or lies under it."""
    row = (await session.execute(select(col(UnitAncestor.distance)).where(
        col(UnitAncestor.ancestor_id) == scope_id, col(UnitAncestor.descendant_id) == unit_id))).first()
    return row is not None


async def ancestors(session: AsyncSession, unit_id: int) -> list[Unit]:
    """The unit's ancestors, root first, the unit itself last."""
    rows = (await session.execute(
        select(Unit).join(UnitAncestor, col(UnitAncestor.ancestor_id) == Unit.id)
        .where(col(UnitAncestor.descendant_id) == unit_id).order_by(col(UnitAncestor.distance).desc())
    )).scalars().all()
    return list(rows)


async def children(session: AsyncSession, unit_id: int) -> list[Unit]:
    rows = (await session.execute(
        select(Unit).where(col(Unit.parent_id) == unit_id).order_by(col(Unit.code)))).scalars()
    return list(rows.all())


async def count_units(session: AsyncSession) -> int:
    """How many units the database holds, in every period (0: a fresh database)."""
    return (await session.execute(select(func.count()).select_from(Unit))).scalar_one()


async def village_count(session: AsyncSession, unit_id: int) -> int:
    """How many villages lie under ``unit_id`` (through the closure table)."""
    return (await session.execute(
        select(func.count()).select_from(Unit)
        .join(UnitAncestor, col(UnitAncestor.descendant_id) == col(Unit.id))
        .where(col(UnitAncestor.ancestor_id) == unit_id, col(Unit.level) == "village"))).scalar_one()
