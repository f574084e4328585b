"""The office's screens through a real Chromium, at a phone's 360×740 and a desk's 1280×800, over the demo
``make run`` makes: the web chat, the commune page, the late list, the digest, the meeting page and its
print view — no horizontal scroll, every label whole, the chat's text box at least half the width on a
phone and no raw file input. Screenshots go to ``$SCREENSHOT_DIR`` (or the test's own directory); the
printed pack is saved as a PDF (and as PNGs when ``pdftoppm`` is installed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.bot.web.conftest import Demo, LiveServer
from tests.bot.web.test_web_browser import bot_says, browser  # noqa: F401
from texts.catalog import t

pytestmark = pytest.mark.browser
SIZES = {"phone": {"width": 360, "height": 740}, "desk": {"width": 1280, "height": 800}}

# every visible label, button, header cell and link whose text is cut (wider than its box) or that
# reaches past the window's right edge
CUT_LABELS = """() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  for (const el of document.querySelectorAll('button, label, th, a.button, .choice, .quick, select, .tile')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.classList.contains('sr') || getComputedStyle(el).visibility === 'hidden') continue;
    const scroller = el.closest('.scroll, .quickbar, .choices');
    const inside = scroller ? scroller.getBoundingClientRect().right : vw;
    if (el.scrollWidth > el.clientWidth + 1 || (r.right > inside + 1 && !scroller)) {
      out.push(el.tagName + ' "' + el.textContent.trim().slice(0, 40) + '" ' + Math.round(r.right));
    }
  }
  return out;
}"""


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "screens")
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture
def pages(browser: Browser, full_live_server: LiveServer) -> Iterator[dict[str, Page]]:  # noqa: F811
    opened = {size: browser.new_page(viewport=viewport) for size, viewport in SIZES.items()}  # type: ignore[arg-type]
    yield opened
    for page in opened.values():
        page.close()


def log_in(page: Page, server: LiveServer, demo: Demo, username: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo.passwords[username])
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(server.url + "/")


def check_fits(page: Page, name: str, shots: Path, size: str) -> None:
    """No horizontal scroll, no label cut; a full-page screenshot saved to look at."""
    page.screenshot(path=str(shots / f"{name}-{size}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"], f"{name} at {size} scrolls sideways: {width}px"
    cut = page.evaluate(CUT_LABELS)
    assert not cut, f"{name} at {size}: labels cut or past the edge: {cut}"


@pytest.mark.parametrize("size", list(SIZES))
def test_the_chat_can_be_typed_in_and_its_choices_read_whole(
        pages: dict[str, Page], full_live_server: LiveServer, full_demo: Demo, shots: Path, size: str) -> None:
    page = pages[size]
    account, _village = full_demo.heads[0]  # a head of the commune whose giao ban left tasks
    page.goto(full_live_server.url + "/chat")
    page.select_option("#account", account)
    bot_says(page, "")
    page.locator("button.quick", has_text=t("commands.nhiemvu.short")).click()
    bot_says(page, t("gb.tasks.ask_pick"))
    box, row = page.locator("#text").bounding_box(), page.locator("#composer").bounding_box()
    assert box is not None and row is not None
    assert box["width"] >= row["width"] / 2, f"the text box is {box['width']}px of {row['width']}px"
    assert page.locator("#photo").bounding_box() is None  # hidden: only the camera button shows
    expect(page.locator("label.photo-pick")).to_be_visible()
    quick = page.locator("button.quick:visible").all_inner_texts()
    assert t("commands.tonghop.short") not in quick and t("commands.baucu.short") in quick  # a head's buttons
    labels = page.locator("#choices button").all_inner_texts()
    assert any(x.endswith("…") for x in labels)  # the demo's long conclusion, cut at a word...
    assert t("gb.tasks.ack_all") in labels  # ...and the offer, with its button
    page.fill("#text", "xin chào")
    check_fits(page, "chat", shots, size)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_office_pages_fit_and_read_whole(
        pages: dict[str, Page], full_live_server: LiveServer, full_demo: Demo, shots: Path, size: str) -> None:
    page, url = pages[size], full_live_server.url
    log_in(page, full_live_server, full_demo, "canbo1")
    check_fits(page, "commune", shots, size)
    expect(page.locator("form.search input[name=q]")).to_be_visible()
    page.goto(url + "/late")
    check_fits(page, "late", shots, size)
    page.goto(url + "/digest")
    check_fits(page, "digest", shots, size)
    page.goto(url + "/giaoban")
    check_fits(page, "giaoban", shots, size)
    for kind, shown in (("weekly", ["weekday"]), ("monthly_day", ["day"]), ("monthly_nth", ["weekday", "nth"])):
        page.select_option("#recurrence-form select[name=kind]", kind)
        for field in ("weekday", "day", "nth"):
            visible = page.locator(f"#recurrence-form [name={field}]").is_visible()
            assert visible == (field in shown), f"{kind}: {field} {'shown' if visible else 'hidden'}"
    meeting = page.locator("table.meetings a").first.get_attribute("href")
    page.goto(url + (meeting or ""))
    expect(page.locator("#pack-doc")).to_contain_text(t("gb.doc.party"))
    expect(page.locator("#delivery")).to_be_visible()
    check_fits(page, "meeting", shots, size)
    page.goto(url + (meeting or "") + "/print")
    check_fits(page, "print", shots, size)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_province_page_fits_and_its_search_and_sort_work(
        pages: dict[str, Page], full_live_server: LiveServer, full_demo: Demo, shots: Path, size: str) -> None:
    """The province's communes: no sideways scroll at either size; "hai son" typed in the box finds Xã Hải
    Sơn; the list sorts by its header on a desk, by the sort choice on a phone (fewer columns there)."""
    page = pages[size]
    log_in(page, full_live_server, full_demo, "admin")
    rows = page.locator("table.progress tbody tr")
    communes = rows.count()
    assert communes > 50
    check_fits(page, "province", shots, size)
    page.fill("form.search input[name=q]", "hai son")
    page.press("form.search input[name=q]", "Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Xã Hải Sơn")
    expect(page.locator("table.progress tfoot")).to_contain_text(t("web.progress.matching_total", n=1))
    check_fits(page, "province-search", shots, size)
    page.locator("form.search a.clear").click()
    expect(rows).to_have_count(communes)
    overdue = page.locator("table.progress thead th", has_text=t("web.progress.overdue"))
    if size == "desk":
        overdue.locator("a.sort").click()
    else:
        expect(overdue).to_be_visible()
        page.select_option("form.search select[name=sort]", "overdue")
        page.select_option("form.search select[name=dir]", "desc")
        page.locator("form.search .sort-pick button").click()
    expect(overdue).to_have_attribute("aria-sort", "descending")
    figures = [int(x) for x in page.locator("table.progress tbody td:nth-child(8)").all_inner_texts()]
    assert len(figures) == communes and figures == sorted(figures, reverse=True)
    check_fits(page, "province-sorted", shots, size)


def test_the_pack_prints_as_a_party_document_on_two_a4_pages(
        browser: Browser, full_live_server: LiveServer, full_demo: Demo, shots: Path) -> None:  # noqa: F811
    page = browser.new_page(viewport=SIZES["desk"])  # type: ignore[arg-type]
    log_in(page, full_live_server, full_demo, "canbo1")
    page.goto(full_live_server.url + "/giaoban")
    meeting = page.locator("table.meetings a").first.get_attribute("href")
    page.goto(full_live_server.url + (meeting or "") + "/print")
    doc = page.locator("#pack-doc")
    expect(doc.locator(".doc-head")).to_contain_text("ĐẢNG BỘ XÃ")
    expect(doc.locator(".doc-head")).to_contain_text(t("gb.doc.party"))
    expect(doc.locator(".doc-head em")).to_have_text(re.compile(r", ngày \d\d tháng \d\d năm \d{4}$"))
    urgent = doc.locator("#urgent")
    expect(urgent).to_contain_text("Sạt lở taluy")
    expect(urgent).to_contain_text("cháy rừng")  # found inside a one-message report
    expect(urgent.locator("img.thumb").first).to_be_visible()
    assert doc.inner_text().count(t("gb.pack.reported", n=0, total=0).split(":")[0]) == 1  # the summary once
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, to look at
    page.screenshot(path=str(shots / "print-media.png"), full_page=True)
    pdf = shots / "giao-ban.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    villages = doc.locator("table.gb-reports tbody tr").count()
    assert villages >= 20 and pages <= 2, f"{villages} villages print on {pages} pages"
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(shots / "giao-ban")], check=True)
