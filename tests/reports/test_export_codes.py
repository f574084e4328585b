"""The export's province and district columns come from each village's ancestors (joined once for the
whole export): right under a district, under a commune with no district, and for a scope."""

from __future__ import annotations

from datetime import date

from models.db import transaction
from models.progress.export import export_rows
from models.units.tree import add_unit
from tests.conftest import Database

TODAY = date(2025, 2, 1)


async def test_each_village_gets_its_own_province_and_district(db: Database) -> None:
    async with transaction(db.sessions) as s:
        qn = await add_unit(s, period="pre2025", code="22", level="province", name="Quảng Ninh", parent=None)
        hl = await add_unit(s, period="pre2025", code="193", level="district", name="Hạ Long", parent=qn)
        ht = await add_unit(s, period="pre2025", code="06661", level="commune", name="Hà Tu", parent=hl)
        hp = await add_unit(s, period="pre2025", code="31", level="province", name="Hải Phòng", parent=None)
        cl = await add_unit(s, period="pre2025", code="11311", level="commune", name="Cát Bà", parent=hp)
        for code, commune in (("V1", ht), ("V2", ht), ("V3", cl)):
            await add_unit(s, period="pre2025", code=code, level="village", name=code, parent=commune)
        assert hp.id is not None
    async with db.sessions() as s:
        rows = {r["village_code"]: (r["province_code"], r["district_code"], r["commune_code"])
                async for r in export_rows(s, "pre2025", TODAY)}
        scoped = [r["village_code"] async for r in export_rows(s, "pre2025", TODAY, scope_id=hp.id)]
    assert rows == {"V1": ("22", "193", "06661"), "V2": ("22", "193", "06661"), "V3": ("31", "", "11311")}
    assert scoped == ["V3"]
