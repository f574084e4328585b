"""The change log on the village page reads in words: every action the domain writes has a label, every
field a name, and yes/no, acknowledgements and attendance answers are words — checked over the source
and over a change log a head makes by typing in the chat."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from bot.web.change_log import action_label, event_field, event_value
from bot.web.village import field_label, show_value
from models.election.record import RECORD_FIELDS
from models.election.reports import CONGRESS_FIELDS, ELECTION_FIELDS
from models.units.tables import Unit
from tests.bot.web.conftest import Demo, login
from tests.bot.web.test_web_commune import rows_of
from tests.bot.web.test_web_scope import _villages_of
from tests.handlers.chat import Chat, invite, make_engine
from texts.catalog import has, t

MODELS = Path(__file__).resolve().parents[3] / "models"


def _actions_written() -> set[str]:
    """Every audit action the domain writes (the literal ones, and party.<kind> for each kind)."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in MODELS.rglob("*.py"))
    # (a catalog prefix given as ``words="congress.reason"`` is no action)
    found = set(re.findall(r"(?<!words=)\"((?:election|congress|congress_plan|party|giaoban)\.[a-z_]+)\"", source))
    found |= {f"{kind}.{verb}" for kind in ("election", "congress") for verb in ("create", "update")}
    return found | {f"party.{k}" for k in ("full_member", "admitted", "admission_planned")}


def test_every_action_and_field_of_the_change_log_has_words() -> None:
    actions = _actions_written()
    assert {"election.new", "giaoban.attendance", "party.admitted", "congress_plan.set"} <= actions
    for action in actions:
        assert has(f"web.audit.action.{action}"), action
    assert action_label("something.unheard_of") == t("web.audit.action_other")
    for field in (*ELECTION_FIELDS, *RECORD_FIELDS, *CONGRESS_FIELDS, "admission_planned_date", "vacated_on",
                  "interim_head", "interim_appointed_on", "head_phone", "attendees"):
        assert field_label(field) != field, field
    assert event_field("meeting:12", field_label) == t("web.audit.field_kind.meeting")
    assert event_field("12:requests", field_label) == t("web.audit.field_kind.report", field=t("gb.field.requests"))
    assert event_field("directive:5", field_label) == t("web.audit.field_kind.directive")
    assert [event_value(None, v, show_value) for v in ("yes", "no", "ack")] == [
        t("web.audit.value.yes"), t("web.audit.value.no"), t("web.audit.value.ack")]
    assert event_value(None, "no: đi công tác", show_value) == t("web.audit.value.absent", reason="đi công tác")


async def test_a_heads_corrections_read_in_words_on_the_village_page(client: TestClient, web_app: App,
                                                                     demo: Demo) -> None:
    code = (await _villages_of(web_app, demo.units["canbo1"]))[0]
    async with web_app.sessions() as s:
        village = (await s.execute(select(Unit).where(Unit.code == code))).scalar_one()
    chat = Chat(make_engine(web_app.sessions))
    await chat.send(f"/start {await invite(web_app.sessions, village)}")
    for answer in ("/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 150"):  # invalid: nobody elected
        await chat.send(answer)
    await chat.send(choice="send")
    await chat.send("/baucu")
    await chat.send(choice="fix")  # a typing mistake: 301 votes, so valid after all
    await chat.send(choice="votes_for")
    await chat.send("301")
    await chat.send(choice="planned")
    await chat.send("tháng 3/2025")
    await chat.send(choice="skip")
    await chat.send(choice="send")
    await chat.send("/dangvien")
    await chat.send(choice="admitted")
    await chat.send("19/12/2024")
    await chat.send(choice="yes")
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    audit = "".join(rows_of(await (await client.get(f"/v/{code}")).text(), "audit")[1:])
    cells = re.sub(r"<[^>]+>", "|", audit)
    for raw in ("election.", "party.", "yes", "→ no", "no →", "non_member", "probationary", "valid", "_"):
        assert raw not in cells, raw
    for words in (t("web.audit.action.election.update"), t("web.audit.action.party.admitted"),
                  f"{t('web.audit.value.no')} → {t('web.audit.value.yes')}", t("party.probationary")):
        assert words in cells, words
