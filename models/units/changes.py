"""Village mergers and splits (Quảng Ninh merges small villages regularly).

``merge_villages`` retires the old villages into a new one, ``split_village`` one old village into
new ones. A retired village keeps its reports, revisions and audit events where they are; it leaves
the tree of counted villages (its level becomes ``retired``: every count, digest, export and reminder
reads ``level = 'village'``) and a ``unit_lineage`` row links it to its successor, whose page lists
its history. The heads bound to a retired village are moved to the (first) new village and told
(outbox key ``unit_change:<old>:<new>:a<account>``). Checks come first: a bad command changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import Person
from models.delivery.outbox import enqueue
from models.election.record import BY_ELECTION_MONTHS
from models.merger.rules import add_months
from models.reminders.sweep import head_accounts
from models.units.tables import Unit, UnitLineage
from models.units.tree import add_unit, get_unit
from texts.catalog import t
from texts.titles import unit_full_name

RETIRED = "retired"




class UnitChangeError(ValueError):
    pass


async def _villages(session: AsyncSession, period: str, codes: Sequence[str]) -> list[Unit]:
    found = []
    for code in codes:
        unit = await get_unit(session, period, code)
        if unit is None or unit.level != "village":
            raise UnitChangeError(f"{code}: no such village in {period}")
        found.append(unit)
    if len({u.id for u in found}) != len(found):
        raise UnitChangeError("a village is named twice")
    return found


async def _new_village(session: AsyncSession, period: str, code: str, name: str | None, parent: Unit,
                       like: Unit, today: date) -> Unit:
    """A new village: it elects its head within 6 months (an interim head serves meanwhile), so that is
    its own election day for reminders and lateness (not the campaign's, long past)."""
    if await get_unit(session, period, code) is not None:
        raise UnitChangeError(f"{code}: the code is already used")
    if not name:
        raise UnitChangeError(f"{code}: give the new village's name (--name)")
    full = unit_full_name(like.type, name)  # "Thôn 15A", never "Thôn Thôn 15A"
    unit = await add_unit(session, period=period, code=code, level="village", name=name, parent=parent,
                          type=like.type, full_name=full)
    unit.election_date = add_months(today, BY_ELECTION_MONTHS)
    session.add(unit)
    return unit


async def _retire(session: AsyncSession, old: Unit, new: Unit, kind: str, today: date, now: datetime,
                  move_heads: bool) -> int:
    assert old.id is not None and new.id is not None
    session.add(UnitLineage(old_id=old.id, new_id=new.id, kind=kind, on=today, created_at=now))
    told = 0
    if move_heads:
        accounts = (await head_accounts(session, old.period)).get(old.id, [])
        heads = (await session.execute(select(Person).where(col(Person.unit_id) == old.id))).scalars().all()
        for person in heads:
            person.unit_id = new.id
            session.add(person)
        text = t(f"units.{kind}_notice", old=old.full_name or old.name, new=new.full_name or new.name)
        for _person, account_id in accounts:
            told += await enqueue(session, key=f"unit_change:{old.code}:{new.code}:a{account_id}", kind="notice",
                                  account_id=account_id, text=text, now=now, village_id=new.id)
    return told


async def merge_villages(session: AsyncSession, period: str, old_codes: Sequence[str], new_code: str,
                         name: str | None, today: date, now: datetime) -> tuple[Unit, int]:
    """Merge villages of one parent into a new village; returns it and how many accounts were told."""
    olds = await _villages(session, period, old_codes)
    if len(olds) < 2:
        raise UnitChangeError("name at least two villages to merge")
    if len({u.parent_id for u in olds}) != 1:
        raise UnitChangeError("the villages are not under the same commune")
    parent = await session.get(Unit, olds[0].parent_id)
    assert parent is not None
    new = await _new_village(session, period, new_code, name, parent, olds[0], today)
    told = 0
    for old in olds:
        told += await _retire(session, old, new, "merge", today, now, move_heads=True)
        old.level = RETIRED
        session.add(old)
    await session.flush()
    return new, told


async def split_village(session: AsyncSession, period: str, old_code: str, new_codes: Sequence[str],
                        names: Sequence[str], today: date, now: datetime) -> tuple[list[Unit], int]:
    """Split a village into new ones (the heads move to the first and are told)."""
    (old,) = await _villages(session, period, [old_code])
    if len(new_codes) < 2 or len(names) != len(new_codes) or len(set(new_codes)) != len(new_codes):
        raise UnitChangeError("give at least two new codes, each with its --name")
    parent = await session.get(Unit, old.parent_id)
    assert parent is not None
    news = [await _new_village(session, period, c, n, parent, old, today)
            for c, n in zip(new_codes, names, strict=True)]
    told = 0
    for i, new in enumerate(news):
        told += await _retire(session, old, new, "split", today, now, move_heads=i == 0)
    old.level = RETIRED
    session.add(old)
    await session.flush()
    return news, told


async def predecessors(session: AsyncSession, village_id: int) -> list[Unit]:
    """The retired villages whose history this village carries (and theirs, recursively)."""
    out: list[Unit] = []
    frontier = [village_id]
    while frontier:
        rows = (await session.execute(select(Unit).join(UnitLineage, col(UnitLineage.old_id) == Unit.id)
                                      .where(col(UnitLineage.new_id).in_(frontier)))).scalars().all()
        rows = [u for u in rows if u.id not in {o.id for o in out}]
        out += rows
        frontier = [u.id for u in rows if u.id is not None]
    return out
