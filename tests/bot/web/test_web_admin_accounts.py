"""The administrator's pages: logins listed (role, unit, last login, disabled), one disabled — its open
sessions end and its login is refused — and enabled again; invites listed with their state and revoked.
Only administrators, only within their unit. The command line's disable ends a session in use too."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient

from bot.app import App
from handlers.messages import Incoming
from models.accounts.people import create_invite
from models.clock import utcnow
from models.db import transaction
from models.units.tree import get_unit
from tests.bot.web.conftest import Demo, csrf_of, login
from texts.catalog import t

ROOT = Path(__file__).resolve().parents[3]


async def test_disable_and_enable_a_login(client: TestClient, aiohttp_client, web_app: App,  # type: ignore[no-untyped-def]
                                          demo: Demo) -> None:
    staff: TestClient = await aiohttp_client(web_app.web_app)  # canbo1 at another desk
    assert await login(staff, "canbo1", demo.passwords["canbo1"]) == 303
    assert (await staff.get("/", allow_redirects=False)).status == 200
    assert await login(client, "admin", demo.passwords["admin"]) == 303

    page = await (await client.get("/admin/users")).text()
    assert t("web.users.title") in page and "canbo1" in page and "canbo2" in page
    row = page.split('class="username">canbo1<', 1)[1].split("</tr>", 1)[0]
    assert t("web.admin.role_staff") in row and t("web.users.active") in row and t("web.users.disable") in row
    assert t("web.users.never") not in row  # canbo1 has just logged in: the time is shown

    done = await client.post("/admin/users/canbo1/disable", data={"csrf": csrf_of(page)})
    assert done.status == 200 and t("web.users.done_disabled", username="canbo1") in await done.text()
    assert (await staff.get("/", allow_redirects=False)).status == 303  # the open session ended
    assert await login(staff, "canbo1", demo.passwords["canbo1"]) == 401  # and the login is refused
    page = await (await client.get("/admin/users")).text()
    assert t("web.users.disabled") in page.split('class="username">canbo1<', 1)[1].split("</tr>", 1)[0]

    mine = await client.post("/admin/users/admin/disable", data={"csrf": csrf_of(page)})
    assert mine.status == 400 and t("web.users.not_yourself") in await mine.text()
    nobody = await client.post("/admin/users/nobody/disable", data={"csrf": csrf_of(page)})
    assert nobody.status == 404
    again = await client.post("/admin/users/canbo1/enable", data={"csrf": csrf_of(page)})
    assert t("web.users.done_enabled", username="canbo1") in await again.text()
    assert await login(staff, "canbo1", demo.passwords["canbo1"]) == 303

    assert (await staff.get("/admin/users")).status == 403  # staff are not administrators
    token = csrf_of(await (await staff.get("/")).text())
    refused = await staff.post("/admin/users/canbo2/disable", data={"csrf": token})
    assert refused.status == 403


async def test_the_command_line_disables_a_login_that_is_in_use(client: TestClient, demo: Demo) -> None:
    """``python -m bot webuser disable`` on the server while canbo1 is logged in: the next page asks for a
    login, the password is refused; ``enable`` lets it in again."""
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    assert (await client.get("/", allow_redirects=False)).status == 200

    def cli(*args: str) -> str:
        env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{demo.path}", "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "bot", "webuser", *args], cwd=demo.path.parent, env=env,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "disabled; its sessions have ended" in await asyncio.to_thread(cli, "disable", "canbo1")
    assert (await client.get("/", allow_redirects=False)).status == 303
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 401
    await asyncio.to_thread(cli, "enable", "canbo1")
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303


async def test_revoke_an_invite(client: TestClient, web_app: App, demo: Demo) -> None:
    village = demo.heads[0][1]
    async with transaction(web_app.sessions) as s:
        unit = await get_unit(s, "post2025", village)
        assert unit is not None
        invite = await create_invite(s, unit, "village_head", utcnow(), 30)
    assert await login(client, "admin", demo.passwords["admin"]) == 303
    page = await (await client.get("/admin")).text()
    row = page.split(f"<code>{invite.code}</code>", 1)[1].split("</tr>", 1)[0]
    assert t("web.admin.state_open") in row and t("web.admin.revoke") in row
    done = await client.post("/admin/invite/revoke", data={"csrf": csrf_of(page), "code": invite.code})
    text = await done.text()
    assert done.status == 200 and t("web.admin.revoked", code=invite.code, unit=unit.full_name) in text
    row = text.split(f"<code>{invite.code}</code>", 1)[1].split("</tr>", 1)[0]
    assert t("web.admin.state_revoked") in row and t("web.admin.revoke") not in row
    twice = await client.post("/admin/invite/revoke", data={"csrf": csrf_of(text), "code": invite.code})
    assert twice.status == 400 and t("web.admin.revoke_refused_revoked", code=invite.code) in await twice.text()
    bad = await client.post("/admin/invite/revoke", data={"csrf": csrf_of(text), "code": "NOPE2345"})
    assert bad.status == 404
    late = Incoming(channel="web", account_id="late-head", text=f"/start {invite.code}")
    replies = await web_app.dialog.step_for_web(late)
    assert [r.text for r in replies] == [t("bind.error_revoked")]  # the revoked code binds nobody
