"""Through a real Chromium (Debian's, driven by Playwright): the web chat and the dashboard together,
against the real app served on loopback with a migrated SQLite file and the demo data."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.bot.web.conftest import Demo, LiveServer
from tests.conftest import require_service
from texts.catalog import t

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def browser() -> Iterator[Browser]:
    require_service(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def bot_says(page: Page, text: str) -> None:
    expect(page.locator("#log .msg.bot").filter(has_text=text).last).to_be_visible(timeout=10_000)


def type_answer(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def start_election(page: Page, server: LiveServer, account: str) -> None:
    page.goto(server.url + "/chat")
    page.select_option("#account", account)
    page.locator("button.quick", has_text=t("commands.baucu.short")).click()
    bot_says(page, t("election.ask.election_date"))
    type_answer(page, "15/12/2024")
    bot_says(page, t("election.ask.head_name"))


def finish_election(page: Page) -> None:
    type_answer(page, "Nguyễn Văn An")
    bot_says(page, t("election.ask.pair.roll"))
    type_answer(page, "400 380 350 320")  # the whole vote-count record in one message
    bot_says(page, t("election.ask.party_status"))
    page.locator("#choices button", has_text=t("election.party_choice.member")).click()
    bot_says(page, t("merger.ask.already_secretary"))
    page.locator("#choices button", has_text=t("common.no")).click()
    bot_says(page, t("election.ask.head_phone"))
    page.locator("#choices button", has_text=t("election.phone.skip")).click()
    bot_says(page, t("election.confirm.question"))
    page.locator("#choices button", has_text=t("election.confirm.send")).click()
    bot_says(page, "Đã lưu kết quả bầu trưởng thôn")


def log_in(browser: Browser, server: LiveServer, demo: Demo, username: str) -> Page:
    page = browser.new_page(viewport=PHONE)
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo.passwords[username])
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(server.url + "/")
    return page


def elected_total(page: Page) -> int:
    """The "elected" figure of the summary line (a commune's page lists villages, not totals)."""
    m = re.match(r"(\d+)/", page.locator("#summary").inner_text())
    assert m, page.locator("#summary").inner_text()
    return int(m[1])


def test_a_head_reports_in_the_web_chat_and_only_the_own_commune_sees_it(
        browser: Browser, live_server: LiveServer, demo: Demo) -> None:
    account, village = demo.heads[0]
    commune1, commune2 = demo.units["canbo1"], demo.units["canbo2"]
    assert village.startswith(commune1 + ".")
    clerk1 = log_in(browser, live_server, demo, "canbo1")
    before = elected_total(clerk1)
    clerk2 = log_in(browser, live_server, demo, "canbo2")
    before2 = clerk2.locator("#summary").inner_text()

    chat = browser.new_page(viewport=PHONE)
    start_election(chat, live_server, account)
    finish_election(chat)

    clerk1.reload()
    assert elected_total(clerk1) == before + 1
    row = clerk1.locator("table.villages tbody tr").filter(has=clerk1.locator(f'a[href="/v/{village}"]'))
    expect(row).to_contain_text(t("status.elected_member"))
    row.locator("a").click()
    expect(clerk1.locator("#village-status")).to_have_text(t("status.elected_member"))
    expect(clerk1.locator("table.audit")).to_contain_text("Nguyễn Văn An")

    clerk2.reload()
    assert clerk2.locator("#summary").inner_text() == before2
    expect(clerk2.locator(f'a[href="/v/{village}"]')).to_have_count(0)
    response = clerk2.goto(f"{live_server.url}/v/{village}")
    assert response is not None and response.status == 404
    response = clerk2.goto(f"{live_server.url}/u/{commune1}")
    assert response is not None and response.status == 404
    assert commune2 != commune1


def test_the_chat_carries_on_after_a_server_restart(browser: Browser, live_server: LiveServer, demo: Demo) -> None:
    account, _ = demo.heads[1]
    page = browser.new_page(viewport=PHONE)
    start_election(page, live_server, account)
    live_server.stop()
    expect(page.locator("#status")).to_have_text(t("web.chat.offline"), timeout=10_000)
    live_server.start()
    expect(page.locator("#status")).to_have_text(t("web.chat.restarted"), timeout=10_000)
    bot_says(page, t("election.ask.head_name"))  # still on screen
    finish_election(page)  # and the engine remembers the date given before the restart
    page.reload()
    bot_says(page, "Đã lưu kết quả bầu trưởng thôn")


@pytest.mark.parametrize("path", ["/", "/late", "/digest", "/admin", "/chat"])
def test_pages_fit_a_360_pixel_phone(browser: Browser, live_server: LiveServer, demo: Demo, path: str) -> None:
    page = log_in(browser, live_server, demo, "admin")
    page.goto(live_server.url + path)
    expect(page.locator("h1")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width}px wide"
    assert re.search(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", page.inner_text("body"))
