"""Every route of the dashboard and the web chat (``/healthz`` is in ``server.py``).

Dashboard (login required, scoped to the user's unit): ``/``, ``/u/{code}``, ``/v/{code}``, ``/late``,
``/digest``, ``/digest/chart.png``, ``/downloads``, ``/export.csv``, ``/export.xlsx``, ``/giaoban…``; administrators:
``/admin``, ``POST /admin/invite``, ``POST /admin/invite/revoke``, ``/admin/users``,
``POST /admin/users/{name}/disable|enable``. Session: ``/login``, ``POST /logout``. Web chat: ``/chat…``.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web import (
    admin,
    admin_accounts,
    chat_routes,
    dashboard,
    digest_page,
    downloads,
    giaoban,
    giaoban_meeting,
    login,
    merger_forms,
    photos,
    recognition,
    village,
)

STATIC = Path(__file__).with_name("static")


def add_routes(web_app: web.Application) -> None:
    r = web_app.router
    r.add_get("/login", login.login_form)
    r.add_post("/login", login.login_submit)
    r.add_post("/logout", login.logout)
    r.add_get("/", dashboard.home)
    r.add_get("/u/{code}", dashboard.unit_page)
    r.add_get("/late", dashboard.late_page)
    r.add_get("/v/{code}", village.village_page)
    r.add_post("/v/{code}/party", merger_forms.party_submit)
    r.add_post("/v/{code}/approve", merger_forms.approve_submit)
    r.add_post("/u/{code}/plan", merger_forms.plan_submit)
    r.add_post("/v/{code}/decision", recognition.decision_submit)
    r.add_get("/photo/{photo_id}", photos.photo_download)
    r.add_get("/digest", digest_page.digest_page)
    r.add_get("/digest/chart.png", digest_page.digest_chart)
    r.add_get("/digest/print", digest_page.digest_print)
    r.add_get("/digest.xlsx", digest_page.digest_xlsx_file)
    r.add_get("/downloads", downloads.downloads_page)
    r.add_get("/export.csv", downloads.export_csv_file)
    r.add_get("/export.xlsx", downloads.export_xlsx_file)
    r.add_get("/giaoban", giaoban.giaoban_page)
    r.add_post("/giaoban/schedule", giaoban.schedule_submit)
    r.add_post("/giaoban/recurrence", giaoban.recurrence_submit)
    r.add_get("/giaoban/m/{id}", giaoban_meeting.meeting_page)
    r.add_get("/giaoban/m/{id}/pack.xlsx", giaoban_meeting.pack_xlsx_file)
    r.add_get("/giaoban/m/{id}/print", giaoban_meeting.print_page)
    r.add_post("/giaoban/m/{id}/change", giaoban_meeting.change_submit)
    r.add_post("/giaoban/m/{id}/cancel", giaoban_meeting.cancel_submit)
    r.add_post("/giaoban/recurrence/{id}/stop", giaoban.recurrence_stop)
    r.add_post("/giaoban/m/{id}/conclusion", giaoban_meeting.conclusion_submit)
    r.add_get("/admin", admin.admin_page)
    r.add_post("/admin/invite", admin.create_invite_submit)
    r.add_post("/admin/invite/revoke", admin_accounts.revoke_submit)
    r.add_get("/admin/users", admin_accounts.users_page)
    r.add_post("/admin/users/{username}/{action}", admin_accounts.users_toggle)
    r.add_get("/chat", chat_routes.chat_page)
    r.add_get("/chat/api/accounts", chat_routes.accounts)
    r.add_post("/chat/api/accounts", chat_routes.new_account)
    r.add_get("/chat/api/messages", chat_routes.messages)
    r.add_post("/chat/api/send", chat_routes.send)
    r.add_post("/chat/api/photo", chat_routes.send_photo)
    r.add_get("/chat/files/{token}/{name}", chat_routes.download)
    r.add_static("/static", STATIC, append_version=False)
