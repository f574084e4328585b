"""The note a page gives of when its messages will go and the scheduler's firing read a crontab the same
way, crontab's way (0 or 7 = Sunday, 1 = Monday): for every day of the week, a giao ban sweep configured
for that day makes the meeting page name that day, the day the scheduler's trigger fires; and a crontab
expression written as the README writes it fires on the day the README says."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build, make_scheduler, stop
from models.crontab import cron_trigger
from tests.bot.web.conftest import Demo, csrf_of, login, make_config
from texts.fmt import fmt_time_date

ROOT = Path(__file__).resolve().parents[3]
SWEEP_AT = time(9, 0)  # outside the quiet hours (21:00–07:00): the note names the sweep itself


def crontab_day(d: date) -> int:
    """crontab's number for the day of ``d``: 0 = Sunday … 6 = Saturday."""
    return d.isoweekday() % 7


async def test_for_every_weekday_the_note_names_the_day_the_sweep_fires(aiohttp_client, demo: Demo) -> None:  # type: ignore[no-untyped-def]
    config = make_config(demo.path, 0)
    tz = config.tz
    app = await build(config)
    try:
        client = await aiohttp_client(app.web_app)
        assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
        page = await (await client.get("/giaoban")).text()
        meeting_day = datetime.now(tz).date() + timedelta(days=20)
        resp = await client.post("/giaoban/schedule", data={
            "csrf": csrf_of(page), "commune": demo.units["canbo1"], "date": meeting_day.strftime("%d/%m/%Y"),
            "time": "08:00", "place": "Hội trường"})
        assert resp.status == 200
        url = resp.url.path
        # the invitations are due invite_days_before the meeting, at 08:00; they go at the first sweep after
        earliest = datetime.combine(meeting_day - timedelta(days=config.giaoban.invite_days_before), time(8, 0), tz)
        seen_days = set()
        for dow in range(8):  # 7 is Sunday again
            config.giaoban.cron = f"{SWEEP_AT.minute} {SWEEP_AT.hour} * * {dow}"
            fires = make_scheduler(config, app.sessions, {}).jobs()["giaoban"][1].get_next_fire_time(None, earliest)
            expected = next(earliest.date() + timedelta(days=n) for n in range(7)
                            if crontab_day(earliest.date() + timedelta(days=n)) == dow % 7)
            assert fires == datetime.combine(expected, SWEEP_AT, tz), (dow, fires)  # the scheduler: crontab's day
            html = await (await client.get(url)).text()
            note = re.search(r'<p class="when-sent" id="when-invites">([^<]*)</p>', html)
            assert note is not None, dow
            assert fmt_time_date(fires, tz) in note[1], (dow, note[1], fires)  # the page: the same time and day
            seen_days.add(fires.date())
        assert len(seen_days) == 7  # seven different days: the field was not ignored
    finally:
        await stop(app)


def test_a_crontab_written_as_the_readme_writes_it_fires_on_the_day_the_readme_says() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    said = re.search(r'`digest_weekly_cron = "([^"]+)"` sends the weekly digest on (\w+)s at (\d\d:\d\d)', readme)
    sunday = re.search(r'`"([^"]+)"` would send it on (\w+)s', readme)
    assert said is not None and sunday is not None
    shipped = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))["scheduler"]["digest_weekly_cron"]
    assert shipped == said[1]  # the README describes the shipped config
    tz = ZoneInfo(tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))["bot"]["timezone"])
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    start = datetime(2026, 1, 1, tzinfo=tz)  # a Thursday
    for expr, day, at in ((said[1], said[2], said[3]), (sunday[1], sunday[2], said[3])):
        trigger, fire = cron_trigger(expr, tz), None
        for _ in range(4):  # four weeks running
            fire = trigger.get_next_fire_time(fire, (fire or start) + timedelta(seconds=1))
            assert fire is not None
            assert names[fire.weekday()] == day and fire.strftime("%H:%M") == at, (expr, fire)
