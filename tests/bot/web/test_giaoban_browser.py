"""Through a real Chromium: commune staff schedule a giao ban meeting, read the pack as a village
reports in the web chat, write a conclusion with a task once the meeting has begun, and see the
acknowledgement arrive."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import create_engine, update

from models.giaoban.tables import GiaobanMeeting
from tests import images
from tests.bot.web.conftest import Demo, LiveServer
from tests.bot.web.test_web_browser import PHONE, bot_says, browser, log_in, type_answer  # noqa: F401
from texts.catalog import t

pytestmark = pytest.mark.browser


def _meeting_begins(demo: Demo) -> None:
    """The meeting began an hour ago (written to the live server's database file)."""
    engine = create_engine(f"sqlite:///{demo.path}")
    try:
        with engine.begin() as conn:
            conn.execute(update(GiaobanMeeting).values(starts_at=datetime.now(UTC) - timedelta(hours=1)))
    finally:
        engine.dispose()


def test_staff_schedule_read_the_pack_conclude_and_see_acknowledgements(
        browser: Browser, live_server: LiveServer, demo: Demo) -> None:  # noqa: F811
    account, village = demo.heads[0]
    assert village.startswith(demo.units["canbo1"] + ".")
    tomorrow = (datetime.now(live_server.config.tz) + timedelta(days=1)).date()
    clerk = log_in(browser, live_server, demo, "canbo1")
    clerk.locator("header.top nav a", has_text=t("web.nav.giaoban")).click()
    form = clerk.locator("#schedule-form")
    form.locator("input[name=date]").fill(tomorrow.strftime("%d/%m/%Y"))  # typed as a clerk writes it
    form.locator("input[name=time]").fill("08:00")
    form.locator("input[name=place]").fill("Hội trường xã")
    form.locator("button[type=submit]").click()
    expect(clerk).to_have_url(re.compile(r"/giaoban/m/\d+$"))
    pack = clerk.locator("#pack-doc")
    expect(pack).to_contain_text("TÀI LIỆU HỘI NGHỊ GIAO BAN")
    expect(pack.locator("#pack-summary")).to_contain_text("Đã báo cáo: 0/")

    chat = browser.new_page(viewport=PHONE)
    chat.goto(live_server.url + "/chat")
    chat.select_option("#account", account)
    chat.locator("button.quick", has_text=t("commands.giaoban.short")).click()
    chat.locator("#choices button", has_text=t("gb.attend.yes")).click()
    bot_says(chat, t("gb.report.ask_mode"))
    chat.locator("#choices button", has_text=t("gb.report.mode_fields")).click()
    type_answer(chat, "Thu hoạch vụ mùa xong")
    for _ in range(3):
        chat.locator("#choices button", has_text=t("gb.report.nothing")).last.click()
    bot_says(chat, t("gb.ask.urgent"))
    type_answer(chat, "Sạt lở taluy đường vào thôn")
    bot_says(chat, t("gb.ask.requests"))
    chat.locator("#choices button", has_text=t("gb.report.nothing")).last.click()
    chat.locator("#choices button", has_text=t("gb.report.send")).click()
    bot_says(chat, "Đã nhận báo cáo giao ban")
    jpeg = images.jpeg(160, 120)  # a photo of the landslide, right after the report
    chat.set_input_files("#photo", files=[{"name": "sat-lo.jpg", "mimeType": "image/jpeg", "buffer": jpeg}])
    bot_says(chat, t("photo.saved_giaoban", village="").split(" của")[0])

    clerk.reload()
    expect(pack.locator("#pack-summary")).to_contain_text("Đã báo cáo: 1/")
    link = pack.locator("#urgent a.thumb-link").first
    expect(link.locator("img.thumb")).to_be_visible()  # the photo as a thumbnail beside the urgent matter
    photo = clerk.request.get(live_server.url + (link.get_attribute("href") or ""))
    assert photo.ok and images.decoded(photo.body()) == ("JPEG", (160, 120))
    assert photo.headers["content-type"] == "image/jpeg"
    expect(pack).to_contain_text("Sạt lở taluy đường vào thôn")
    expect(pack.locator("#attendance")).to_contain_text(t("gb.doc.attendance_line", yes=1, no=0, none=0)[:12])
    expect(clerk.locator("#conclusion-later")).to_have_text(t("gb.refused.not_started"))  # not before the meeting
    _meeting_begins(demo)
    clerk.reload()
    conclusion = clerk.locator("#conclusion-form")
    conclusion.locator("textarea[name=text]").fill("Khắc phục sạt lở taluy trước Tết")
    conclusion.locator("input[name=due]").fill((tomorrow + timedelta(days=7)).strftime("%d/%m/%Y"))
    conclusion.locator(f"input[name=village][value='{village}']").check()
    conclusion.locator("button[type=submit]").click()
    counts = clerk.locator("#conclusion-1 .counts")
    expect(counts).to_have_text(t("gb.web.ack_count", n=0, total=1) + ", " + t("gb.web.done_count", n=0, total=1))

    chat.locator("button.quick", has_text=t("commands.nhiemvu.short")).click()
    bot_says(chat, "Khắc phục sạt lở taluy trước Tết")
    chat.locator("#choices button", has_text=t("gb.tasks.ack_all")).click()
    bot_says(chat, "Đã xác nhận")

    clerk.reload()
    expect(counts).to_have_text(t("gb.web.ack_count", n=1, total=1) + ", " + t("gb.web.done_count", n=0, total=1))
    xlsx = clerk.request.get(clerk.url + "/pack.xlsx")
    assert xlsx.ok and xlsx.body()[:2] == b"PK"
