"""A second baseline for ``bench telegram``: the bare echo bot plus the writes that any bot keeping our
guarantees must make for each update, and nothing else (no dialog, no ORM, no reports).

For each update, in ONE transaction through SQLAlchemy Core on an ``AsyncEngine`` made like ours
(:func:`models.db.make_engine`: same driver, pool and SQLite settings): the dedupe row (``INSERT … ON
CONFLICT DO NOTHING``), the chat's conversation state read (``FOR UPDATE`` on PostgreSQL, as our step
locks its row) and written back, the reply written; then the reply is sent and marked sent in a second
transaction. Cheaper than ours in one respect (no inbox row before the update is processed: our inbox
write is one multi-row INSERT per poll) and dearer in another (one sent-mark transaction per reply:
ours are committed in groups). The ratio "ours ÷ durable echo" says how much the dialog and the domain
cost beyond the guarantees; "durable echo ÷ bare echo" what the guarantees alone cost.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.pipeline.pipeline import Progress
from models.clock import utcnow

META = MetaData()
SEEN = Table("echo_seen", META, Column("key", String(120), primary_key=True), Column("at", DateTime(timezone=True)))
STATE = Table("echo_state", META, Column("chat", String(64), primary_key=True), Column("step", Integer, nullable=False),
              Column("data", Text, nullable=False), Column("updated_at", DateTime(timezone=True)))
OUTBOX = Table("echo_outbox", META, Column("id", Integer, primary_key=True, autoincrement=True),
               Column("key", String(160), unique=True, nullable=False), Column("chat", String(64), nullable=False),
               Column("text", Text, nullable=False), Column("created_at", DateTime(timezone=True)),
               Column("sent_at", DateTime(timezone=True)))


def _statements(pg: bool) -> dict[str, Any]:
    if pg:
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    read = select(STATE.c.step).where(STATE.c.chat == bindparam("chat"))
    upsert = insert(STATE).values(chat=bindparam("chat"), step=bindparam("step"), data=bindparam("data"),
                                  updated_at=bindparam("at"))
    return {
        "seen": insert(SEEN).values(key=bindparam("key"), at=bindparam("at")).on_conflict_do_nothing(),
        "read": read.with_for_update() if pg else read,
        "write": upsert.on_conflict_do_update(index_elements=[STATE.c.chat],
                                              set_={"step": upsert.excluded.step, "data": upsert.excluded.data,
                                                    "updated_at": upsert.excluded.updated_at}),
        "reply": insert(OUTBOX).values(key=bindparam("key"), chat=bindparam("chat"), text=bindparam("text"),
                                       created_at=bindparam("at")).returning(OUTBOX.c.id),
        "sent": OUTBOX.update().where(OUTBOX.c.id == bindparam("b_id")).values(sent_at=bindparam("b_at")),
    }


async def durable_echo_bot(engine: AsyncEngine, token: str, base_url: str, base_file_url: str,
                           concurrent: int) -> tuple[Application[Any, Any, Any, Any, Any, Any], Progress]:
    """The echo bot of ``bench_telegram`` with the writes above; the tables are created in ``engine``'s
    database."""
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
    sql = _statements(engine.dialect.name == "postgresql")
    progress = Progress()

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_user is not None
        try:
            query = update.callback_query
            if query is not None:
                await query.answer()
                key, said = f"c{query.id}", query.data or ""
            else:
                assert update.message is not None
                key, said = f"m{update.effective_chat.id}:{update.message.message_id}", update.message.text or ""
            chat, now = str(update.effective_chat.id), utcnow()
            async with engine.begin() as conn:
                if not (await conn.execute(sql["seen"], {"key": key, "at": now})).rowcount:
                    return  # a redelivery
                step = (await conn.execute(sql["read"], {"chat": chat})).scalar_one_or_none() or 0
                await conn.execute(sql["write"], {"chat": chat, "step": step + 1, "data": said, "at": now})
                row_id = (await conn.execute(sql["reply"], {"key": f"reply:{key}:0", "chat": chat,
                                                            "text": said or "?", "at": now})).scalar_one()
            await update.effective_chat.send_message(said or "?")
            async with engine.begin() as conn:
                await conn.execute(sql["sent"], {"b_id": row_id, "b_at": utcnow()})
        finally:
            progress.done(str(update.effective_user.id))

    return await polling_app(token, base_url, base_file_url, concurrent, echo), progress


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


async def polling_app(token: str, base_url: str, base_file_url: str, concurrent: int,
                      echo: Handler) -> Application[Any, Any, Any, Any, Any, Any]:
    """python-telegram-bot as its docs show it: ``echo`` for every text and button press, long polling
    started (the bare echo of ``bench_telegram`` and the durable one here)."""
    app = (Application.builder().token(token).base_url(base_url).base_file_url(base_file_url)
           .concurrent_updates(concurrent).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=5)
    return app
