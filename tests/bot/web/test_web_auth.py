"""Login (throttled per address; per account in test_login_throttle.py), the session cookie and its
epoch, and CSRF, through aiohttp's test client against the real app."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.app import App
from bot.web.login import login_limit
from bot.web.security import load_session
from models.accounts.access import end_web_sessions
from models.accounts.passwords import hash_password, verify_password
from models.accounts.tables import Throttle, WebUser
from models.accounts.throttle import record_failure
from models.clock import utcnow
from tests.bot.web.conftest import Demo, csrf_of, login
from texts.catalog import t

CSRF = re.compile(r'value="[A-Za-z0-9_-]{20,}"')


def test_passwords_are_salted_scrypt_and_checked() -> None:
    a, b = hash_password("mật khẩu"), hash_password("mật khẩu")
    assert a != b and a.startswith("scrypt$") and "mật" not in a
    assert verify_password("mật khẩu", a) and verify_password("mật khẩu", b)
    assert not verify_password("mat khau", a)
    assert not verify_password("x", "not-a-hash")


async def test_login_sets_an_httponly_lax_cookie_and_logout_ends_it(client: TestClient, demo: Demo) -> None:
    page = await client.get("/login")
    cookie = page.cookies["vrb_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/login"
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    home = await client.get("/")
    assert home.status == 200
    body = await home.text()
    assert t("web.progress.title", unit="").strip() in body and "canbo1" in body
    resp = await client.post("/logout", data={"csrf": csrf_of(body)}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    assert (await client.get("/", allow_redirects=False)).status == 303


async def attempt(client: TestClient, username: str, password: str) -> tuple[int, str]:
    page = await client.get("/login")
    resp = await client.post("/login", data={"csrf": csrf_of(await page.text()), "username": username,
                                             "password": password})
    return resp.status, await resp.text()


async def test_failures_are_throttled_per_address_and_never_lock_the_account(
        client: TestClient, web_app: App, demo: Demo) -> None:
    limit = login_limit(web_app.config.web)  # 3 failures per address in the tests
    refused = t("web.login.refused", minutes=web_app.config.web.login_lockout_minutes)
    # an attacker elsewhere (another address) fails as often as he likes: nobody else is held up
    async with web_app.sessions() as s, s.begin():
        for _ in range(limit.max_failures * 3):
            await record_failure(s, limit, "203.0.113.9", utcnow())
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    client.session.cookie_jar.clear()
    for n in range(limit.max_failures):  # (other names each: the per-account slow-down is tested apart)
        status, body = await attempt(client, f"canbo{n + 2}", "sai-mat-khau")
        assert status == 401 and refused in body
    # this address now waits: even the right password gets the same answer, and tells nothing
    status, body = await attempt(client, "canbo1", demo.passwords["canbo1"])
    assert status == 401 and refused in body
    async with web_app.sessions() as s:
        user = (await s.execute(select(WebUser).where(WebUser.username == "canbo1"))).scalar_one()
        assert user.locked_until is None  # the account itself is never locked
    # the window passes
    async with web_app.sessions() as s, s.begin():
        await s.execute(update(Throttle).where(Throttle.key == "127.0.0.1")
                        .values(window_start=utcnow() - limit.window - timedelta(seconds=1)))
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303


async def test_every_failure_looks_the_same(client: TestClient, demo: Demo) -> None:
    answers = []
    for username, password in (("khong-co", "x"), ("canbo1", "sai-mat-khau")):
        status, body = await attempt(client, username, password)
        answers.append((status, CSRF.sub("", body).replace(username, "USER")))
    assert answers[0] == answers[1] and answers[0][0] == 401
    assert t("web.login.refused", minutes=15)[:30] in answers[0][1]


async def test_logout_ends_every_copy_of_the_session(client: TestClient, aiohttp_client, web_app: App,  # type: ignore[no-untyped-def]
                                                     demo: Demo) -> None:
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["vrb_session"].value
    thief = await aiohttp_client(web_app.web_app)  # a copied cookie, in another browser
    thief.session.cookie_jar.update_cookies({"vrb_session": cookie}, thief.make_url("/"))
    assert (await thief.get("/", allow_redirects=False)).status == 200
    body = await (await client.get("/")).text()
    assert (await client.post("/logout", data={"csrf": csrf_of(body)}, allow_redirects=False)).status == 303
    assert (await thief.get("/", allow_redirects=False)).status == 303  # the copy died with the logout
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303  # a new login works


async def test_a_new_password_ends_the_old_sessions(client: TestClient, web_app: App, demo: Demo) -> None:
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    assert (await client.get("/", allow_redirects=False)).status == 200
    async with web_app.sessions() as s, s.begin():  # what `python -m bot webuser canbo1` does
        user = (await s.execute(select(WebUser).where(WebUser.username == "canbo1"))).scalar_one()
        user.password_hash = hash_password("mật khẩu mới")
        assert user.id is not None
        await end_web_sessions(s, user.id)
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_posts_without_the_right_csrf_token_are_refused(client: TestClient, aiohttp_client,  # type: ignore[no-untyped-def]
                                                              web_app: App, demo: Demo) -> None:
    await client.get("/login")
    resp = await client.post("/login", data={"username": "admin", "password": demo.passwords["admin"]})
    assert resp.status == 403 and t("web.error.csrf") in await resp.text()
    assert await login(client, "admin", demo.passwords["admin"]) == 303
    # a token from another session (another browser, or a forged page) does not count
    other = await aiohttp_client(web_app.web_app)
    foreign = csrf_of(await (await other.get("/login")).text())
    resp = await client.post("/admin/invite", data={"csrf": foreign, "unit": demo.units["canbo1"], "role": "staff"})
    assert resp.status == 403
    resp = await client.post("/logout", data={}, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/chat/api/send", json={"account": demo.heads[0][0], "text": "/trogiup"})
    assert resp.status == 403


async def test_a_tampered_cookie_is_an_anonymous_visitor(client: TestClient, web_app: App, demo: Demo) -> None:
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["vrb_session"].value
    secret = web_app.config.web.secret_key.get_secret_value()
    session = load_session(cookie, secret)
    assert session is not None and session.user_id is not None
    nonce, user, issued, epoch, mac = cookie.split("|")
    forged = f"{nonce}|{1 if user != '1' else 2}|{issued}|{epoch}|{mac}"
    assert load_session(f"{nonce}|{user}|{issued}|{int(epoch) + 1}|{mac}", secret) is None
    assert load_session(forged, secret) is None
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"vrb_session": forged}, client.make_url("/"))
    assert (await client.get("/", allow_redirects=False)).status == 303
    client.session.cookie_jar.update_cookies({"vrb_session": cookie}, client.make_url("/"))
    assert (await client.get("/", allow_redirects=False)).status == 200
