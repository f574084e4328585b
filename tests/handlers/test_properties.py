"""Random message sequences from several accounts: never raise, never save an unconfirmed report,
never change another account's village."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models.accounts.tables import ChannelAccount, Person
from models.db import make_engine, make_session_factory
from models.election.tables import ReportRevision
from tests.handlers.chat import Chat, invite, make_province
from tests.handlers.chat import make_engine as make_dialog
from texts.catalog import t

WORDS = ["/baucu", "/daihoi", "/huy", "/trangthai", "/trogiup", "/start", "/start ZZZZZZZZ", "/tonghop", "15/12",
         "hôm qua", "20/12", "5/1", "ngày 3 tháng 1", "Nguyễn Văn An", "Le Thi Hoa", "300", "350", "400", "1.402",
         "400 380 350 300", "bỏ qua",
         "1", "2", "3", "4", "7", "ok", "có", "không", "ko", "huy", "", " ", "🙂", "a" * 2001]
MESSAGE = st.one_of(st.sampled_from(WORDS), st.text(max_size=40), st.sampled_from(["INVITE"]))
STEPS = st.lists(st.tuples(st.integers(0, 2), MESSAGE, st.sampled_from([None, "send", "member", "plan", "result",
                                                                         "yes", "no", "edit"])), max_size=60)
CONFIRM_QUESTIONS = (t("election.confirm.question"), t("congress.ask.result_confirm"), "Đúng không?")


async def _run(template: Path, workdir: Path, steps: list[tuple[int, str, str | None]]) -> None:
    path = workdir / "prop.sqlite3"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    sessions = make_session_factory(engine)
    try:
        province = await make_province(sessions)
        dialog = make_dialog(sessions)
        chats = [Chat(dialog, account=f"acc{i}", channel=("web", "zalo", "telegram")[i]) for i in range(3)]
        codes = [await invite(sessions, province.villages[i]) for i in range(3)]
        last_question: dict[int, str] = {}
        for who, text, choice in steps:
            if text == "INVITE":
                text = f"/start {codes[who]}"
            before = await _revision_villages(sessions)
            replies = await chats[who].send(text, choice=choice)
            assert all(r.text for r in replies)
            after = await _revision_villages(sessions)
            changed = {v for v in after if after[v] != before.get(v)}
            if changed:
                bound = await _bound_village(sessions, f"acc{who}")
                assert changed == {bound}, "a report changed for a village the account is not bound to"
                assert last_question.get(who, "").endswith(CONFIRM_QUESTIONS), "saved without confirmation"
            if replies:
                last_question[who] = replies[-1].text
    finally:
        await engine.dispose()


async def _revision_villages(sessions) -> dict[int, int]:  # type: ignore[no-untyped-def]
    async with sessions() as s:
        rows = await s.execute(select(ReportRevision.village_id, func.count()).group_by(ReportRevision.village_id))
        return {v: n for v, n in rows.all()}


async def _bound_village(sessions, external_id: str) -> int | None:  # type: ignore[no-untyped-def]
    async with sessions() as s:
        return (await s.execute(select(Person.unit_id).join(ChannelAccount, ChannelAccount.person_id == Person.id)
                                .where(ChannelAccount.external_id == external_id))).scalar_one_or_none()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_random_sequences(steps: list[tuple[int, str, str | None]], sqlite_template: Path, tmp_path: Path) -> None:
    asyncio.run(_run(sqlite_template, tmp_path, steps))


def test_a_guided_sequence_does_save(sqlite_template: Path, tmp_path: Path) -> None:
    """The invariant above is not vacuous: a confirmed report is saved and seen as a change."""
    steps = [(0, "INVITE", None), (0, "/baucu", None), (0, "15/12", None), (0, "Nguyễn Văn An", None),
             (0, "400", None), (0, "380", None), (0, "350", None), (0, "300", None), (0, "1", None),
             (0, "không", None), (0, "bỏ qua", None), (0, "ok", None)]
    asyncio.run(_run(sqlite_template, tmp_path, steps))

    async def count() -> int:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'prop.sqlite3'}")
        try:
            return len(await _revision_villages(make_session_factory(engine)))
        finally:
            await engine.dispose()

    assert asyncio.run(count()) == 1
