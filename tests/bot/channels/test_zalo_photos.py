"""Photos on Zalo: the image behind ``photo_url`` is fetched over https from Zalo's CDN hosts only
(``zalo.photo_hosts``; here the stand-in's https host is allowed through that setting), with no
redirect off them, and never for an unbound account — a forged update carrying the webhook secret
cannot make the bot fetch 127.0.0.1, localhost over http, a redirect to an internal address, or the
bot's own ``/healthz``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, stop
from bot.channels.zalo_photos import allowed_photo_url
from bot.config import ZALO_PHOTO_HOSTS
from models.photos.tables import ReportPhoto
from tests import images
from tests.bot.channels.test_zalo import HEAD, SECRET, Head, Village, make_config, running_app, settle, webhook_url
from tests.conftest import Database
from tests.fakes.tls import self_signed
from tests.fakes.zalo_api import FakeZalo
from texts.catalog import t

PHOTO = images.jpeg(80, 60)


@pytest.fixture
async def cdn(tmp_path: Path) -> AsyncIterator[FakeZalo]:
    """The Zalo stand-in, its files also served over https as ``localhost`` (a throw-away certificate)."""
    fake = FakeZalo(token="1459232241454:SeCrEtZaloTokenValue0123456789")
    fake.tls = self_signed(tmp_path)
    async with fake:
        yield fake


@pytest.fixture
async def app(sqlite_db: Database, tmp_path: Path, cdn: FakeZalo) -> AsyncIterator[App]:
    assert cdn.tls is not None
    config = make_config(sqlite_db.url, tmp_path, cdn, photo_hosts=["localhost"], photo_ca_file=cdn.tls[0])
    running = await running_app(config)
    yield running
    await stop(running)


async def in_report(app: App, cdn: FakeZalo) -> Head:
    village = await Village(app).make()
    head = Head(app, cdn)
    await head.say(await village.invite())
    await head.say("/baucu")
    await head.say("15/12/2024")
    return head


async def photos(app: App) -> list[ReportPhoto]:
    async with app.sessions() as s:
        return list((await s.execute(select(ReportPhoto))).scalars().all())


async def test_a_photo_on_an_allowed_https_host_is_fetched_and_attached(app: App, cdn: FakeZalo) -> None:
    await in_report(app, cdn)
    failed = cdn.push_image(HEAD, cdn.serve_photo("gone.jpg", PHOTO).replace("gone", "missing"))
    await settle(app, cdn, failed["message"]["message_id"])
    assert cdn.sent_to(HEAD)[-1].startswith(t("photo.download_failed"))
    update = cdn.push_image(HEAD, cdn.serve_photo("bien-ban.jpg", PHOTO), caption="")
    await settle(app, cdn, update["message"]["message_id"])
    assert t("photo.saved_election", village="Thôn 1") in "\n".join(cdn.sent_to(HEAD)[-2:])
    assert t("election.ask.head_name") in cdn.sent_to(HEAD)[-1]
    assert [(p.kind, images.decoded(p.content), p.channel) for p in await photos(app)] == [
        ("election", ("JPEG", (80, 60)), "zalo")]
    assert [host for host, _ in cdn.fetched] == [f"localhost:{cdn.tls_port}"] * 2


async def test_internal_addresses_and_redirects_off_the_cdn_are_never_fetched(app: App, cdn: FakeZalo) -> None:
    await in_report(app, cdn)
    good = cdn.serve_photo("bien-ban.jpg", PHOTO)
    bot_port = app.config.web.port
    forged = [
        good.replace("localhost", "127.0.0.1"),  # the same server by its address (its certificate covers it)
        good.replace(f"https://localhost:{cdn.tls_port}", f"http://localhost:{cdn.port}"),  # not https
        f"https://localhost:{cdn.tls_port}/moved?to={good.replace('localhost', '127.0.0.1')}",  # a redirect off
        f"https://localhost:{cdn.tls_port}/moved?to=http://127.0.0.1:{bot_port}/healthz",
        f"http://127.0.0.1:{bot_port}/healthz",  # the bot's own health page
        f"https://user@localhost:{cdn.tls_port}/file/x",
    ]
    for url in forged:
        update = cdn.push_image(HEAD, url)
        await settle(app, cdn, update["message"]["message_id"])
        assert cdn.sent_to(HEAD)[-1].startswith(t("photo.download_failed")), url
    assert all(host == f"localhost:{cdn.tls_port}" for host, _ in cdn.fetched)  # the allowed host only
    assert len(cdn.fetched) == 0 and await photos(app) == []
    moved = f"https://localhost:{cdn.tls_port}/moved?to={good}"  # a redirect within the allowed hosts
    update = cdn.push_image(HEAD, moved)
    await settle(app, cdn, update["message"]["message_id"])
    assert len(await photos(app)) == 1 and len(cdn.fetched) == 1


async def test_a_forged_webhook_update_from_an_unbound_account_fetches_nothing(
        sqlite_db: Database, tmp_path: Path, cdn: FakeZalo) -> None:
    assert cdn.tls is not None
    config = make_config(sqlite_db.url, tmp_path, cdn, mode="webhook", photo_hosts=["localhost"],
                         photo_ca_file=cdn.tls[0])
    hooked = await running_app(config)
    try:
        await Village(hooked).make()
        url = cdn.serve_photo("bien-ban.jpg", PHOTO)
        update = {"event_name": "message.image.received",
                  "message": cdn.message("stranger-1", photo_url=url, caption="", message_type="CHAT_PHOTO")}
        status, _ = await cdn.deliver_webhook(webhook_url(hooked), SECRET, update)
        assert status == 200
        await settle(hooked, cdn, update["message"]["message_id"])
        assert cdn.fetched == [] and await photos(hooked) == []
        assert cdn.sent_to("stranger-1") == [t("photo.not_expected")]
    finally:
        await stop(hooked)


def test_the_allow_list_matches_hosts_not_strings() -> None:
    hosts = list(ZALO_PHOTO_HOSTS)
    assert allowed_photo_url("https://f21-zpc.zdn.vn/jpg/abc.jpg", hosts)
    assert allowed_photo_url("https://zdn.vn/a.jpg", hosts)
    # the shape of the photo_url in the Zalo Bot API's message.image.received, as captured from the platform
    assert allowed_photo_url("https://photo-stal-29.zdn.vn/no/jpg/bccf2cc441c88096d9d9/1234858379660747898.jpg", hosts)
    assert not allowed_photo_url("https://zalo-api.zadn.vn/api/emoticon/oasticker?eid=1&size=130", hosts)  # a sticker
    for url in ("http://f21-zpc.zdn.vn/a.jpg", "https://zdn.vn.evil.example/a.jpg", "https://evilzdn.vn/a.jpg",
                "https://127.0.0.1/a.jpg", "https://localhost/a.jpg", "https://[::1]/a.jpg",
                "https://zdn.vn@127.0.0.1/a.jpg", "https://169.254.169.254/latest/meta-data", "file:///etc/passwd",
                "https://zdn.vn:99999/a.jpg", ""):
        assert not allowed_photo_url(url, hosts), url
    assert allowed_photo_url("https://127.0.0.1/a.jpg", ["127.0.0.1"])  # an address only when listed exactly
    assert not allowed_photo_url("https://10.0.0.1/a.jpg", ["0.0.1"])
