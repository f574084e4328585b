"""Login, lockout, the session cookie and CSRF, through aiohttp's test client against the real app."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.app import App
from bot.web.security import load_session
from models.clock import utcnow
from models.passwords import hash_password, verify_password
from models.tables import WebUser
from tests.bot.web.conftest import Demo, csrf_of, login
from texts.catalog import t


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


async def test_wrong_passwords_lock_the_account(client: TestClient, web_app: App, demo: Demo) -> None:
    limit = web_app.config.web.login_max_failures  # 3 in the tests
    for left in range(limit - 1, 0, -1):
        page = await client.get("/login")
        resp = await client.post("/login", data={"csrf": csrf_of(await page.text()), "username": "canbo1",
                                                 "password": "sai-mat-khau"})
        assert resp.status == 401
        assert t("web.login.failed_left", left=left) in await resp.text()
    assert await login(client, "canbo1", "sai-mat-khau") == 429
    # locked: even the right password is refused, and says for how long
    page = await client.get("/login")
    resp = await client.post("/login", data={"csrf": csrf_of(await page.text()), "username": "canbo1",
                                             "password": demo.passwords["canbo1"]})
    assert resp.status == 429
    assert t("web.login.locked", minutes=web_app.config.web.login_lockout_minutes) in await resp.text()
    # the lockout ends
    async with web_app.sessions() as s, s.begin():
        await s.execute(update(WebUser).where(WebUser.username == "canbo1")
                        .values(locked_until=utcnow() - timedelta(seconds=1)))
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    async with web_app.sessions() as s:
        user = (await s.execute(select(WebUser).where(WebUser.username == "canbo1"))).scalar_one()
        assert user.failed_logins == 0 and user.locked_until is None


async def test_unknown_user_gets_the_same_answer(client: TestClient) -> None:
    assert await login(client, "khong-co", "x") == 401
    resp = await client.post("/login", data={"csrf": csrf_of(await (await client.get("/login")).text()),
                                             "username": "khong-co", "password": "x"})
    assert t("web.login.failed") in await resp.text()


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
    nonce, user, issued, mac = cookie.split("|")
    forged = f"{nonce}|1|{issued}|{mac}" if user != "1" else f"{nonce}|2|{issued}|{mac}"
    assert load_session(forged, secret) is None
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"vrb_session": forged}, client.make_url("/"))
    assert (await client.get("/", allow_redirects=False)).status == 303
    client.session.cookie_jar.update_cookies({"vrb_session": cookie}, client.make_url("/"))
    assert (await client.get("/", allow_redirects=False)).status == 200
