"""Demo accounts for trying the product in a browser: dashboard logins and web-chat village heads.

Called by ``python -m bot demo`` after the demo units exist; returns the lines it prints. The
passwords are random and printed once (only their scrypt hashes are stored).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.passwords import hash_password, new_password
from models.accounts.tables import ChannelAccount, Person, WebUser
from models.clock import utcnow
from models.demo.giaoban import seed_giaoban_demo
from models.demo.story import TZ
from models.units.tables import Unit
from texts.catalog import t

HEADS_PER_COMMUNE = (2, 1)  # demo village heads in the first and the second commune
DEMO_USERS = ("admin", "canbo1", "canbo2")  # the province's administrator, staff of the first two communes


async def _demo_communes(session: AsyncSession, period: str) -> list[Unit]:
    """Two communes (xã preferred: their villages are "Thôn …") that have at least two villages."""
    village = select(col(Unit.parent_id)).where(col(Unit.period) == period, col(Unit.level) == "village") \
        .group_by(col(Unit.parent_id)).having(func.count() >= 2)
    rows = (await session.execute(select(Unit).where(col(Unit.id).in_(village))
                                  .order_by((col(Unit.type) != "xã"), col(Unit.code)))).scalars().all()
    return list(rows[:2])


async def _add_user(session: AsyncSession, username: str, role: str, unit: Unit) -> str | None:
    if (await session.execute(select(col(WebUser.id)).where(col(WebUser.username) == username))).first():
        return None  # already there: its password is not known any more
    assert unit.id is not None
    password = new_password()
    session.add(WebUser(username=username, password_hash=hash_password(password), role=role, unit_id=unit.id,
                        created_at=utcnow()))
    return password


async def seed_web_demo(session: AsyncSession, period: str, base_url: str, giaoban: bool = True) -> list[str]:
    """Demo logins and web-chat heads, and (``giaoban``) a giao ban round in the first commune
    (``models/demo/giaoban.py``); ``base_url`` is where the web server is reached."""
    province = (await session.execute(select(Unit).where(col(Unit.period) == period, col(Unit.level) == "province")
                                      .order_by(col(Unit.code)))).scalars().first()
    communes = await _demo_communes(session, period)
    if province is None or len(communes) < 2:
        return ["web demo: no province or too few communes with villages, no demo accounts created"]
    base = base_url.rstrip("/") + "/"
    lines = [f"web dashboard: {base}login — demo accounts (passwords are printed only now):"]
    users = [(name, role, unit) for name, role, unit in zip(DEMO_USERS, ("admin", "staff", "staff"),
                                                            (province, *communes), strict=True)]
    for username, role, unit in users:
        password = await _add_user(session, username, role, unit)
        shown = password if password is not None else "(exists, password unchanged)"
        lines.append(f"  {username:<8} {shown:<21} {role:<6} {unit.full_name} ({unit.code})")
    lines.append(f"web chat: {base}chat — demo village heads:")
    now = utcnow()
    for commune, count in zip(communes, HEADS_PER_COMMUNE, strict=True):
        villages = (await session.execute(select(Unit)
                                          .where(col(Unit.parent_id) == commune.id, col(Unit.level) == "village")
                                          .order_by(col(Unit.code)).limit(count))).scalars().all()
        for village in villages:
            external_id = f"demo-{village.code}"
            label = t("web.demo.head_label", village=village.full_name, commune=commune.full_name)
            exists = (await session.execute(select(col(ChannelAccount.id)).where(
                col(ChannelAccount.channel) == "web", col(ChannelAccount.external_id) == external_id))).first()
            if not exists:
                assert village.id is not None
                person = Person(full_name="", role="village_head", unit_id=village.id, created_at=now)
                session.add(person)
                await session.flush()
                session.add(ChannelAccount(channel="web", external_id=external_id, display_name=label,
                                           person_id=person.id, created_at=now))
            lines.append(f"  {label} [{village.code}]")
    await session.flush()
    meeting = await seed_giaoban_demo(session, communes[0], now, TZ) if giaoban else None
    if meeting is not None:
        lines.append(f"giao ban: {base}giaoban/m/{meeting} — the next meeting of {communes[0].full_name}, "
                     "with reports, and the last one's conclusions and tasks")
    return lines


async def demo_login_hint(session: AsyncSession, base_url: str) -> list[str]:
    """What a second ``make run`` prints: the demo logins that exist (their passwords were printed only
    once) and how to get a new password; the web-chat heads."""
    users = (await session.execute(select(col(WebUser.username), col(WebUser.role), col(Unit.full_name))
                                   .join(Unit, col(Unit.id) == WebUser.unit_id)
                                   .where(col(WebUser.username).in_(DEMO_USERS))
                                   .order_by(col(WebUser.id)))).all()
    if not users:
        return []
    base = base_url.rstrip("/") + "/"
    lines = [f"web dashboard: {base}login — demo accounts (passwords were printed when the demo was made):"]
    lines += [f"  {name:<8} {role:<6} {unit}" for name, role, unit in users]
    lines.append(f"  a new password for one of them: .venv/bin/python -m bot webuser {users[0][0]}")
    lines.append(f"web chat: {base}chat — pick a demo village head there")
    return lines
