"""Staff commands called the way the engine calls them: a Context with the staff member's scope."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from handlers.commands import BY_NAME, STAFF, parse_command
from handlers.context import Context, Settings, context_for
from handlers.messages import Incoming
from models.accounts.tables import ChannelAccount, Person
from models.db import transaction
from tests.conftest import Database
from tests.scheduler.province import Province, at, build_province, elect

DAY = date(2025, 1, 22)


async def _run(db: Database, p: Province, label: str, command: str, text: str | None = None) -> Context:
    async with transaction(db.sessions) as s:
        account = await s.get(ChannelAccount, p.accounts[label])
        assert account is not None
        person = await s.get(Person, account.person_id)
        assert person is not None
        unit = next(u for u in p.units.values() if u.id == person.unit_id)
        ctx = context_for(session=s, incoming=Incoming(channel="telegram", account_id=account.external_id,
                                                       text=text or f"/{command}"),
                          account=account, person=person, unit=unit, now=at(DAY, 9), today=DAY,
                          settings=Settings(campaign_election_date=date(2025, 1, 5)))
        name, arg = parse_command(text or f"/{command}")
        action = BY_NAME[name].action
        assert action is not None
        await action(ctx, arg)
    return ctx


async def test_staff_commands(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V11", at(date(2025, 1, 5), 10))
    assert all(BY_NAME[c].roles == STAFF for c in ("tonghop", "chamtre", "xuatfile", "nhantonghop"))

    ctx = await _run(db, p, "admin_P", "tonghop")
    assert ctx.replies[0].text.startswith("BÁO CÁO TỔNG HỢP — Tỉnh Thử")
    assert ctx.replies[1].attachment is not None and ctx.replies[1].attachment.content[:4] == b"\x89PNG"
    again = await _run(db, p, "admin_P", "tonghop")
    assert "Không có thay đổi so với báo cáo trước (22/01/2025)." in again.replies[0].text

    late = await _run(db, p, "staff_C1", "chamtre")
    assert late.replies[0].text.splitlines() == [
        "Thôn chậm tiến độ thuộc Xã C1: 3, lâu nhất trước:",
        "– Thôn V12 (V12): chưa báo kết quả bầu trưởng thôn (ngày bầu 05/01/2025), chậm 17 ngày",
        "– Thôn V13 (V13): chưa báo kết quả bầu trưởng thôn (ngày bầu 05/01/2025), chậm 17 ngày",
        "– Thôn V11 (V11): chưa có kế hoạch đại hội chi bộ (hạn 11/01/2025), chậm 10 ngày",
    ]

    export = await _run(db, p, "staff_C2", "xuatfile")
    att = export.replies[0].attachment
    assert att is not None and att.filename == "tien-do-C2-2025-01-22.xlsx"
    rows = list(load_workbook(io.BytesIO(att.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 2 and "(2 thôn)" in export.replies[0].text

    off = await _run(db, p, "staff_C1", "nhantonghop", "/nhantonghop tắt")
    assert "không nhận" in off.replies[0].text
    async with db.sessions() as s:
        assert (await s.get(ChannelAccount, p.accounts["staff_C1"])).digest_opt_out is True  # type: ignore[union-attr]
    on = await _run(db, p, "staff_C1", "nhantonghop", "/nhantonghop bật")
    assert "sẽ nhận" in on.replies[0].text
