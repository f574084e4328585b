"""Village mergers and splits: the history stays reachable from the new village, bound heads are moved
and told, retired villages leave the counts, and a bad command changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from handlers.engine import Engine
from models.accounts.tables import Person
from models.db import transaction
from models.delivery.tables import OutboxMessage
from models.election.reports import revisions
from models.progress.status import village_status
from models.progress.tallies import progress_by_child
from models.units.changes import RETIRED, UnitChangeError, merge_villages, predecessors, split_village
from models.units.tables import Unit
from tests.bot.test_cli import bot
from tests.conftest import Database
from tests.handlers.chat import NOW, TODAY, Province, make_engine, make_province
from tests.handlers.test_election import bound_head, fill
from texts.catalog import t


@pytest.fixture
async def province(db: Database) -> Province:
    return await make_province(db.sessions)


@pytest.fixture
def engine(db: Database) -> Engine:
    return make_engine(db.sessions)


async def _units(db: Database) -> int:
    async with db.sessions() as s:
        return (await s.execute(select(func.count()).select_from(Unit))).scalar_one()


async def test_merge_keeps_history_moves_and_tells_the_heads(db: Database, engine: Engine,
                                                             province: Province) -> None:
    head = await bound_head(db, engine, province, 0)
    await fill(head, "15/12", "Lê Thị Hoa", "350 330 320 301", "1", "không", "bỏ qua", "1")
    await bound_head(db, engine, province, 1, account="u2")
    async with transaction(db.sessions) as s:
        new, told = await merge_villages(s, "post2025", ["V1", "V2"], "V12", "Hà Tu Mới", TODAY, NOW)
    assert told == 2 and new.full_name == "Thôn Hà Tu Mới"
    async with db.sessions() as s:
        olds = await predecessors(s, new.id)  # type: ignore[arg-type]
        assert sorted(u.code for u in olds) == ["V1", "V2"] and {u.level for u in olds} == {RETIRED}
        assert len(await revisions(s, province.village_ids[0])) == 1
        heads = (await s.execute(select(Person.unit_id).where(col(Person.role) == "village_head"))).scalars().all()
        assert set(heads) == {new.id}
        notices = (await s.execute(select(OutboxMessage.text))).scalars().all()
        assert t("units.merge_notice", old="Thôn 1", new="Thôn Hà Tu Mới") in notices
        assert await village_status(s, new.id, TODAY) == "no_election"  # type: ignore[arg-type]
        lines = await progress_by_child(s, province.province.id, TODAY)  # type: ignore[arg-type]
        assert sum(p.villages for p in lines) == 2  # V12 and V3: the retired ones are not counted
    await head.send("/trangthai")
    assert "Thôn Hà Tu Mới" in head.text  # the account now reports for the new village


async def test_split_and_bad_commands_change_nothing(db: Database, province: Province) -> None:
    before = await _units(db)
    for olds, new, name in ((["V1", "V3"], "VX", "X"), (["V1", "V9"], "VX", "X"), (["V1", "V2"], "V3", "X"),
                            (["V1", "V2"], "VX", None), (["V1"], "VX", "X")):
        with pytest.raises(UnitChangeError):
            async with transaction(db.sessions) as s:
                await merge_villages(s, "post2025", olds, new, name, TODAY, NOW)
    assert await _units(db) == before
    async with transaction(db.sessions) as s:
        news, _ = await split_village(s, "post2025", "V3", ["V3A", "V3B"], ["Ba A", "Ba B"], TODAY, NOW)
    async with db.sessions() as s:
        assert [[u.code for u in await predecessors(s, n.id)] for n in news] == [["V3"], ["V3"]]  # type: ignore[arg-type]


def test_cli_refuses_a_bad_merge(tmp_path: Path) -> None:
    bot(tmp_path, "db", "upgrade")
    proc = bot(tmp_path, "units", "merge", "NOPE1", "NOPE2", "--into", "NEW", "--name", "Mới", ok=False)
    assert "nothing changed" in proc.stderr


async def test_a_name_that_starts_with_its_type_word_is_not_doubled(db: Database, engine: Engine,
                                                                    province: Province) -> None:
    head = await bound_head(db, engine, province, 0)
    async with transaction(db.sessions) as s:
        news, _ = await split_village(s, "post2025", "V1", ["V15A", "V15B"], ["Thôn 15A", "15B"], TODAY, NOW)
    assert [n.full_name for n in news] == ["Thôn 15A", "Thôn 15B"]
    await head.send("/trangthai")
    assert "Thôn 15A" in head.text and "Thôn Thôn" not in head.text
    await fill(head, "15/12", "Lê Thị Hoa", "350 330 320 301", "1", "có", "bỏ qua", "1")
    title = t("merger.baucu.merged_at_once", head="Lê Thị Hoa", title="trưởng thôn 15A")
    assert title in head.text and "Thôn Thôn" not in head.text and "thôn Thôn" not in head.text
