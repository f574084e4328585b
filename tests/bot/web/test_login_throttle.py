"""Login behind a reverse proxy: the client's address from X-Forwarded-For only when the proxy is
trusted (``web.trusted_proxies``), so one clerk's typos do not lock out the office; a slow-down per
account that a hundred guesses from twenty addresses cannot get past quickly, while the real user —
from a browser where she logged in before — is never held up; and the safety headers on every
response (pages, /healthz, /static, 404), HSTS when served over https."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlmodel import col

from bot import app as app_module
from models.accounts.tables import Throttle, WebUser
from models.clock import utcnow
from tests.bot.web.conftest import Demo, csrf_of, make_config
from texts.catalog import t

Client = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def make_client(aiohttp_client: Any, demo: Demo) -> AsyncIterator[Client]:
    apps: list[app_module.App] = []

    async def make(**web: object) -> TestClient:
        app = await app_module.build(make_config(demo.path, 0, **web))
        apps.append(app)
        client: TestClient = await aiohttp_client(app.web_app)
        client.app_under_test = app  # type: ignore[attr-defined]
        return client

    yield make
    for app in apps:
        await app_module.stop(app)


async def attempt(client: TestClient, username: str, password: str, via: str | None = None,
                  **headers: str) -> tuple[int, str]:
    """A login through the form, as forwarded by a proxy for the client at ``via``."""
    if via is not None:
        headers["X-Forwarded-For"] = f"{via}, 127.0.0.1"  # (a proxy chain: the client, then nginx)
    page = await client.get("/login", headers=headers)
    resp = await client.post("/login", data={"csrf": csrf_of(await page.text()), "username": username,
                                             "password": password}, headers=headers, allow_redirects=False)
    return resp.status, await resp.text()


async def test_behind_a_trusted_proxy_one_desks_typos_do_not_lock_out_the_office(make_client: Client,
                                                                                demo: Demo) -> None:
    client = await make_client(trusted_proxies=["127.0.0.1"])
    refused = t("web.login.refused", minutes=15)
    for n in range(3):  # login_max_failures in the tests
        status, body = await attempt(client, f"canbo{n + 2}", "sai", via="198.51.100.7")
        assert status == 401 and refused in body
    assert (await attempt(client, "canbo1", demo.passwords["canbo1"], via="198.51.100.7"))[0] == 401  # that desk waits
    client.session.cookie_jar.clear()
    assert (await attempt(client, "canbo1", demo.passwords["canbo1"], via="198.51.100.8"))[0] == 303  # the next one not


async def test_forwarded_for_from_an_untrusted_peer_is_not_believed(make_client: Client, demo: Demo) -> None:
    client = await make_client(trusted_proxies=["10.0.0.1"])  # the test client (127.0.0.1) is no proxy of ours
    for n in range(3):  # a new made-up address each time: still one address, the real one
        assert (await attempt(client, f"canbo{n + 2}", "sai", via=f"198.51.100.{n}"))[0] == 401
    assert (await attempt(client, "canbo1", demo.passwords["canbo1"], via="198.51.100.99"))[0] == 401


async def test_a_hundred_guesses_from_twenty_addresses_are_slowed_but_the_real_user_gets_in(
        make_client: Client, demo: Demo) -> None:
    client = await make_client(trusted_proxies=["127.0.0.1"])
    app: app_module.App = client.app_under_test  # type: ignore[attr-defined]
    office = await make_client(trusted_proxies=["127.0.0.1"])
    assert (await attempt(office, "canbo1", demo.passwords["canbo1"], via="203.0.113.50"))[0] == 303  # yesterday
    await office.post("/logout", data={"csrf": csrf_of(await (await office.get("/")).text())})
    answers: list[int] = []
    for n in range(100):
        client.session.cookie_jar.clear()
        answers.append((await attempt(client, "canbo1", f"doan-{n}", via=f"192.0.2.{n % 20 + 1}"))[0])
    # 3 checked, then a wait that doubles at each check: however slow this machine, a few more at most
    checked, slowed = answers.count(401), answers.count(429)
    assert checked + slowed == 100 and checked <= 15 and slowed >= 85, answers
    status, body = await attempt(client, "canbo1", "doan-x", via="192.0.2.1")
    assert status == 429 and t("web.login.slow", seconds="§").split("§")[0] in body
    # on a new computer: told to wait, never locked out — once the wait has passed, she is in
    newcomer = await make_client(trusted_proxies=["127.0.0.1"])
    assert (await attempt(newcomer, "canbo1", demo.passwords["canbo1"], via="203.0.113.77"))[0] == 429
    async with app.sessions() as s, s.begin():  # the wait passes
        await s.execute(update(Throttle).where(col(Throttle.scope) == "login_wait", col(Throttle.key) == "canbo1")
                        .values(window_start=utcnow() - timedelta(seconds=1)))
    assert (await attempt(newcomer, "canbo1", demo.passwords["canbo1"], via="203.0.113.77"))[0] == 303
    for n in range(20):  # the guessing goes on
        client.session.cookie_jar.clear()
        await attempt(client, "canbo1", f"lai-{n}", via=f"192.0.2.{n + 1}")
    # the clerk at her usual desk (her browser logged in before): in at once, whatever the guessers do
    assert (await attempt(office, "canbo1", demo.passwords["canbo1"], via="203.0.113.50"))[0] == 303
    async with app.sessions() as s:
        user = (await s.execute(select(WebUser).where(col(WebUser.username) == "canbo1"))).scalar_one()
    assert user.locked_until is None


SAFE = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


async def test_every_response_carries_the_safety_headers(make_client: Client) -> None:
    client = await make_client(trusted_proxies=["127.0.0.1"])
    for path, status in (("/healthz", 200), ("/static/style.css", 200), ("/khong-co-trang-nay", 404),
                         ("/login", 200), ("/static/nope.css", 404)):
        resp = await client.get(path)
        assert resp.status == status, path
        for name, value in SAFE.items():
            assert resp.headers.get(name) == value, (path, name)
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
        assert "Strict-Transport-Security" not in resp.headers, path  # plain http here
    forwarded = await client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert forwarded.headers.get("Strict-Transport-Security", "").startswith("max-age=")
    untrusted = await make_client(trusted_proxies=["10.0.0.1"])
    spoofed = await untrusted.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers
    public = await make_client(public_url="https://bot.example.vn")
    for path in ("/healthz", "/static/style.css", "/nope"):
        assert (await public.get(path)).headers.get("Strict-Transport-Security", "").startswith("max-age=")
