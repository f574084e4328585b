"""The web chat page and its small JSON API (the page itself is ``static/chat.js``).

- ``GET /chat``: the phone-sized page.
- ``GET /chat/api/accounts``: the web-channel accounts to pick from (the demo village heads first).
- ``POST /chat/api/accounts``: a new, unbound web account (bind it by typing ``/start CODE``).
- ``GET /chat/api/messages?account=ID&since=SEQ``: the transcript after ``since``, with the boot id.
- ``POST /chat/api/send``: ``{"account", "text" | "choice", "label", "message_id", "greet"}``; CSRF header
  (``greet``: the page's own ``/start`` when an account with no conversation is picked, not shown as sent).
- ``POST /chat/api/photo?account=ID&message_id=X``: a photo (the bytes as the body, JPEG or PNG); CSRF header.
- ``GET /chat/files/{token}/{name}``: an attachment a reply carried.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from bot.channels.webhook_body import BadBody, read_json_object
from bot.web import keys
from bot.web.chat import WebChatChannel
from bot.web.guard import Ctx, page
from bot.web.html import Html, attachment_headers, esc, join, tag
from handlers.commands import quick as quick_commands
from handlers.messages import IncomingPhoto
from models.accounts.access import channel_accounts, count_accounts
from models.accounts.people import get_or_create_account
from models.clock import utcnow
from models.photos.store import MAX_PHOTO_BYTES
from texts.catalog import t

MAX_TEXT = 4096  # as the engine: Telegram's own limit
# a camera drawn in SVG (a phone without an emoji font shows 📷 as an empty box)
CAMERA = ('<svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" '
          'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M4 7h3l2-3h6l2 3h3a1 1 0 0 1 1 '
          '1v11a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1z"/><circle cx="12" cy="13" r="4"/></svg>')


def _channel(ctx: Ctx) -> WebChatChannel:
    channel = ctx.request.app.get(keys.WEB_CHAT)
    if channel is None or not ctx.config.web.chat_enabled:
        raise web.HTTPNotFound(text=t("web.chat.disabled"))
    return channel


@page(login=False)
async def chat_page(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    _channel(ctx)
    quick = join(tag("button", label, type="button", class_="quick", data_text=f"/{name}", data_roles=roles,
                     hidden=bool(roles))
                 for name, label, roles in quick_commands())  # chat.js shows those the picked account's role may use
    texts = {"offline": t("web.chat.offline"), "restarted": t("web.chat.restarted"),
             "pick": t("web.chat.pick_placeholder"), "pickfirst": t("web.chat.pick_first")}
    data = " ".join(f'data-{k}="{esc(v)}"' for k, v in texts.items())
    # a phone layout: the page fits the screen (chat.js sizes it), the log scrolls, and the dock at the
    # bottom (choices, quick commands, the input) stays visible; choices scroll inside the dock
    body = Html(f"""<div id="chat" class="chat" {data}>
<p class="intro">{esc(t("web.chat.intro"))}</p>
<div class="picker"><label for="account">{esc(t("web.chat.pick"))}</label><select id="account"></select>
<button type="button" id="new-account" class="secondary">{esc(t("web.chat.new_account"))}</button></div>
<p id="status" class="status-line" hidden></p>
<div id="log" class="log" aria-live="polite"></div>
<div class="dock"><div id="choices" class="choices"></div>
<div class="quickbar" aria-label="{esc(t("web.chat.quick"))}">{quick}</div>
<form id="composer" class="composer" autocomplete="off"><input id="text" maxlength="{MAX_TEXT}"
 placeholder="{esc(t("web.chat.placeholder"))}" aria-label="{esc(t("web.chat.placeholder"))}">
<label class="photo-pick" title="{esc(t("web.chat.photo"))}">{CAMERA}
<span class="sr">{esc(t("web.chat.photo"))}</span>
<input id="photo" type="file" accept="image/jpeg,image/png" hidden></label>
<button type="submit">{esc(t("web.chat.send"))}</button></form></div></div>
<script src="/static/chat.js" defer></script>""")
    return ctx.render(t("web.chat.title"), body)


async def _account_list(ctx: Ctx) -> list[dict[str, str]]:
    async with ctx.sessions() as db:
        rows = await channel_accounts(db, "web")
    return [{"id": ext, "label": name or unit or ext, "role": role or ""} for ext, name, unit, role in rows]


@page(login=False)
async def accounts(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    _channel(ctx)
    return web.json_response({"accounts": await _account_list(ctx)})


@page(login=False)
async def new_account(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    _channel(ctx)
    external_id = f"web-{secrets.token_hex(6)}"
    async with ctx.sessions() as db, db.begin():
        n = await count_accounts(db, "web")
        await get_or_create_account(db, "web", external_id, utcnow(), t("web.chat.new_account_label", n=n + 1))
    return web.json_response({"id": external_id, "accounts": await _account_list(ctx)})


def _since(request: web.Request) -> int:
    try:
        return max(0, int(request.query.get("since", "0")))
    except ValueError:
        return 0


@page(login=False)
async def messages(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    channel = _channel(ctx)
    account = request.query.get("account", "")
    return web.json_response({"boot": channel.boot, "messages": channel.messages(account, _since(request))})


@page(login=False)
async def send(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    channel = _channel(ctx)
    try:
        body: dict[str, Any] = await read_json_object(request)  # not JSON, too deep, not an object: 400
    except BadBody:
        raise web.HTTPBadRequest() from None
    account = str(body.get("account") or "")[:64]
    text = body.get("text")
    choice = body.get("choice")
    if not isinstance(text, str | None) or not isinstance(choice, str | None) or not (text or choice):
        raise web.HTTPBadRequest()
    message_id = str(body.get("message_id") or secrets.token_hex(8))[:80]
    label = body.get("label") if isinstance(body.get("label"), str) else None
    if not await channel.handle(account, text=text[:MAX_TEXT] if text else None,
                                choice=choice[:200] if choice else None, label=label[:200] if label else None,
                                message_id=f"web:{message_id}",
                                echo=body.get("greet") is not True):  # the page's greeting is not the user's words
        return web.json_response({"error": t("web.chat.unknown_account")}, status=404)
    return web.json_response({"boot": channel.boot, "messages": channel.messages(account, _since(request))})


async def _body_upto(request: web.Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes (not read further)."""
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@page(login=False)
async def send_photo(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    """A photo from the page, handed to the engine as a platform's photo would be (checked there)."""
    channel = _channel(ctx)
    account = request.query.get("account", "")[:64]
    content = await _body_upto(request, MAX_PHOTO_BYTES)
    photo = IncomingPhoto(error="too_large") if content is None else IncomingPhoto(content=content)
    message_id = (request.query.get("message_id") or secrets.token_hex(8))[:80]
    if not await channel.handle(account, text=None, choice=None, label=None, message_id=f"web:{message_id}",
                                photo=photo):
        return web.json_response({"error": t("web.chat.unknown_account")}, status=404)
    return web.json_response({"boot": channel.boot, "messages": channel.messages(account, _since(request))})


@page(login=False)
async def download(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    attachment = _channel(ctx).file(request.match_info["token"])
    if attachment is None:
        return ctx.not_found()
    return web.Response(body=attachment.content, headers=attachment_headers(attachment.filename,
                                                                            attachment.mime_type))
