"""The export names the head in office only (models/election/head.py, the rule of ``/trangthai``), on
SQLite and PostgreSQL: a head who left is no longer in ``head_name`` (nor his party status in
``head_party_status``), the interim head is in ``interim_head``, the most-voted of an invalid result is
no head, and a village new from a split shows its interim head before its first election."""

from __future__ import annotations

from datetime import date

from models.db import transaction
from models.election.reports import ElectionData, record_election
from models.election.vacancy import appoint_interim, open_vacancy, record_vacancy
from models.progress.export import export_rows
from models.units.changes import split_village
from tests.conftest import Database
from tests.scheduler.province import ACTOR, PERIOD, at, build_province, elect

D = date.fromisoformat
TODAY = D("2025-03-01")


async def test_the_export_names_the_head_in_office_only(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        for v in ("V11", "V12", "V13"):
            await elect(s, p, v, at(D("2025-01-06"), 10))
        invalid = ElectionData(election_date=D("2025-01-05"), head_name="Lê Văn Bốn", votes_for=40, valid_ballots=95,
                               roll=100, party_status="member", attendees=96)
        await record_election(s, p.id("V21"), invalid, ACTOR, at(D("2025-01-06"), 10), D("2025-01-06"))
        for v in ("V12", "V13"):  # their heads leave; V13 gets an interim head
            await record_vacancy(s, p.id(v), kind="resignation", on=D("2025-02-01"), reason="", actor=ACTOR,
                                 now=at(D("2025-02-02")), today=D("2025-02-02"))
        await appoint_interim(s, p.id("V13"), name="Trần Văn Lâm", on=D("2025-02-03"), actor=ACTOR,
                              now=at(D("2025-02-03")), today=D("2025-02-03"))
        (new, _other), _ = await split_village(s, PERIOD, "V22", ["V22A", "V22B"], ["22A", "22B"], D("2025-02-10"),
                                               at(D("2025-02-10")))
        assert new.id is not None
        await appoint_interim(s, new.id, name="Phạm Thị Mới", on=D("2025-02-11"), actor=ACTOR,
                              now=at(D("2025-02-11")), today=D("2025-02-11"))
    async with db.sessions() as s:
        rows = {r["village_code"]: r async for r in export_rows(s, PERIOD, TODAY)}
        # the interim heads are those of the open vacancies /trangthai shows (the same clause)
        opened = {v: await open_vacancy(s, i) for v, i in (("V12", p.id("V12")), ("V13", p.id("V13")),
                                                            ("V22A", new.id), ("V11", p.id("V11")))}
    shown = {v: (rows[v]["head_name"], rows[v]["head_party_status"], rows[v]["interim_head"], rows[v]["election_date"])
             for v in ("V11", "V12", "V13", "V21", "V22A", "V22B")}
    assert shown == {
        "V11": ("Nguyễn Văn V11", "member", "", "2025-01-05"),  # in office
        "V12": ("", "", "", "2025-01-05"),  # left; nobody stands in
        "V13": ("", "", "Trần Văn Lâm", "2025-01-05"),  # left; the interim head stands in
        "V21": ("", "", "", "2025-01-05"),  # an invalid result: nobody elected
        "V22A": ("", "", "Phạm Thị Mới", ""),  # new from a split, before its first election
        "V22B": ("", "", "", ""),
    }
    assert {v: None if x is None else x.interim_head for v, x in opened.items()} == {
        "V12": None, "V13": "Trần Văn Lâm", "V22A": "Phạm Thị Mới", "V11": None}
    assert opened["V12"] is not None and opened["V11"] is None  # V12's post is vacant, V11's is not
