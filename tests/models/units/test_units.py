"""Unit import: the reference file, idempotence, and bad files refused whole."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.db import transaction
from models.demo.units import DATA_FILE, seed_demo
from models.units.tables import Unit, UnitAncestor
from models.units.tree import (
    UnitFileError,
    ancestors,
    count_by_level,
    get_unit,
    import_units,
    is_within,
    parse_unit_file,
)
from tests.conftest import Database


async def _import(db: Database, raw: bytes, period: str | None = None) -> tuple[int, int]:
    async with transaction(db.sessions) as s:
        return await import_units(s, parse_unit_file(raw, period=period))


async def _count_units(db: Database) -> int:
    async with db.sessions() as s:
        return (await s.execute(select(func.count()).select_from(Unit))).scalar_one()


async def test_reference_file_both_periods_and_twice(db: Database) -> None:
    raw = DATA_FILE.read_bytes()
    created, _ = await _import(db, raw, "post2025")
    assert created == 55
    await _import(db, raw, "pre2025")
    async with db.sessions() as s:
        assert await count_by_level(s, "post2025") == {"province": 1, "commune": 54}
        assert await count_by_level(s, "pre2025") == {"province": 1, "district": 13, "commune": 171}
        # the same code means different units in the two periods
        assert (await get_unit(s, "pre2025", "06652")).name == "Hà Phong"  # type: ignore[union-attr]
        assert (await get_unit(s, "post2025", "06652")).name == "Hà Tu"  # type: ignore[union-attr]
        assert (await get_unit(s, "post2025", "06970")).code == "06978"  # type: ignore[union-attr]
    before = await _count_units(db)
    assert await _import(db, raw) == (0, 0)
    assert await _count_units(db) == before


async def test_closure_and_scope(db: Database) -> None:
    await _import(db, DATA_FILE.read_bytes(), "pre2025")
    async with db.sessions() as s:
        commune = await get_unit(s, "pre2025", "06649")
        district = await get_unit(s, "pre2025", "193")
        other = await get_unit(s, "pre2025", "07069") or await get_unit(s, "pre2025", "206")
        assert commune and district and other
        chain = await ancestors(s, commune.id)  # type: ignore[arg-type]
        assert [u.level for u in chain] == ["province", "district", "commune"]
        assert await is_within(s, commune.id, district.id)  # type: ignore[arg-type]
        assert not await is_within(s, district.id, commune.id)  # type: ignore[arg-type]
        pairs = (await s.execute(select(func.count()).select_from(UnitAncestor))).scalar_one()
        assert pairs == 1 + 13 * 2 + 171 * 3


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("level,code,name,parent_code,type\nprovince,22,Q,,tỉnh\ncommune,1,A,99,xã\n", 3, "parent 99"),
        ("level,code,name,parent_code,type\nprovince,22,Q,,tỉnh\ncommune,1,A,22,xã\ncommune,1,B,22,xã\n", 4,
         "duplicate code 1"),
        ("level,code,name,parent_code,type\nprovince,22,Q,,tỉnh\nhamlet,1,A,22,xã\n", 3, "unknown level"),
        ("level,code,name,parent_code\nprovince,22,Q,\n", 1, "missing column"),
        ("level,code,name,parent_code,type\nprovince,22,Q,,tỉnh\ncommune,,A,22,xã\n", 3, "empty code"),
    ],
)
async def test_bad_file_refused_with_line_and_nothing_changes(db: Database, content: str, line: int,
                                                              reason: str) -> None:
    await _import(db, DATA_FILE.read_bytes(), "post2025")
    before = await _count_units(db)
    with pytest.raises(UnitFileError) as err:
        await _import(db, content.encode())
    assert err.value.line == line
    assert reason in str(err.value)
    assert await _count_units(db) == before


async def test_bom_crlf_nfd_are_imported_as_nfc(db: Database) -> None:
    content = "level,code,name,parent_code,type\r\nprovince,22,Quảng Ninh,,tỉnh\r\ncommune,1,Hà Khánh,22,phường\r\n"
    raw = b"\xef\xbb\xbf" + unicodedata.normalize("NFD", content).encode()
    assert await _import(db, raw) == (2, 0)
    async with db.sessions() as s:
        unit = await get_unit(s, "post2025", "1")
        assert unit is not None and unit.name == unicodedata.normalize("NFC", "Hà Khánh")
        assert unicodedata.is_normalized("NFC", unit.name)


async def test_demo_villages(db: Database) -> None:
    async with transaction(db.sessions) as s:
        created = await seed_demo(s, "post2025")
    assert created == 1452
    async with transaction(db.sessions) as s:
        assert await seed_demo(s, "post2025") == 0
        names = (await s.execute(select(Unit.full_name).where(Unit.level == "village"))).scalars().all()
    assert any(n.startswith("Thôn ") for n in names) and any(n.startswith("Khu ") for n in names)
    assert any(n.startswith("Bản ") for n in names)


def test_unit_file_path_is_in_the_repo() -> None:
    assert DATA_FILE.is_file() and Path("data/SOURCE.md").is_file()
