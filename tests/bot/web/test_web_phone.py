"""In Chromium at phone widths: the web chat keeps its input in view through a conversation (a 7-choice
question included), greets a freshly picked account, asks to pick one before anything is sent; the
digest page is set in the UI font, not a monospace one."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.bot.web.conftest import Demo, LiveServer
from tests.bot.web.test_web_browser import bot_says, browser, log_in  # noqa: F401 (browser: a fixture)
from texts.catalog import t

pytestmark = pytest.mark.browser
PHONES = {360: 740, 390: 844}
SEVEN = [{"value": f"c{i}", "label": f"Lựa chọn số {i} khá dài để xuống dòng"} for i in range(1, 8)]


def input_in_view(page: Page) -> None:
    box = page.locator("#text").bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert 0 <= box["y"] and box["y"] + box["height"] <= size["height"], (box, size)
    assert 0 <= box["x"] and box["x"] + box["width"] <= size["width"], (box, size)


def say(page: Page, text: str, then: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")
    bot_says(page, then)
    input_in_view(page)


def seven_choices(route: Route) -> None:
    """The real reply, given seven choices: the layout must cope with the longest choice list."""
    response = route.fetch()
    body: dict[str, Any] = response.json()
    body["messages"][-1]["choices"] = SEVEN
    route.fulfill(response=response, json=body)


@pytest.mark.parametrize("width", sorted(PHONES))
def test_the_chat_input_stays_in_view_on_a_phone(browser: Browser, live_server: LiveServer, demo: Demo,  # noqa: F811
                                                  width: int) -> None:
    account, _ = demo.heads[2]
    page = browser.new_page(viewport={"width": width, "height": PHONES[width]})
    page.goto(live_server.url + "/chat")
    input_in_view(page)
    page.fill("#text", "xin chào")
    page.press("#text", "Enter")
    expect(page.locator("#status")).to_have_text(t("web.chat.pick_first"))
    assert page.input_value("#text") == "xin chào"  # kept, not lost
    page.select_option("#account", account)
    bot_says(page, t("help.head"))  # the greeting and the menu
    expect(page.locator("#log .msg.me")).to_have_count(0)  # the page's own /start is not shown as sent
    input_in_view(page)
    page.locator("button.quick", has_text=t("commands.baucu.short")).click()
    bot_says(page, t("election.ask.election_date"))
    input_in_view(page)
    say(page, "15/12/2024", t("election.ask.head_name"))
    say(page, "Nguyễn Văn An", t("election.ask.pair.roll"))  # the record in form order, one number at a time
    say(page, "400", t("election.ask.attendees"))
    say(page, "380", t("election.ask.pair.valid_ballots"))
    say(page, "350", t("election.ask.votes_for"))
    say(page, "300", t("election.ask.party_status"))
    expect(page.locator("#choices button")).to_have_count(4)
    input_in_view(page)
    page.route("**/chat/api/send*", seven_choices)
    page.locator("#choices button", has_text=t("election.party_choice.member")).click()
    expect(page.locator("#choices button")).to_have_count(7)
    input_in_view(page)
    last = page.locator("#choices button").last
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    input_in_view(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_digest_page_is_not_monospace(browser: Browser, live_server: LiveServer, demo: Demo) -> None:  # noqa: F811
    page = log_in(browser, live_server, demo, "admin")
    page.goto(live_server.url + "/digest")
    text = page.locator("#digest-doc")
    expect(text).to_contain_text("Số liệu đến ngày")
    family = text.evaluate("el => getComputedStyle(el).fontFamily")
    assert "mono" not in family.lower() and family == page.evaluate("getComputedStyle(document.body).fontFamily")
    # and the glyphs are proportional: in a monospace font "iiiiiiii" is as wide as "MMMMMMMM"
    narrow, wide = text.evaluate("""el => { const c = document.createElement('canvas').getContext('2d');
        c.font = getComputedStyle(el).font;
        return [c.measureText('iiiiiiii').width, c.measureText('MMMMMMMM').width]; }""")
    assert narrow < wide / 2
