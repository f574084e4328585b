from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from models.db import make_engine, make_session_factory
from tests.conftest import Database, _truncate_all, require_service


@pytest.fixture
async def pg(pg_database: str | None) -> AsyncIterator[Database]:
    """The session's PostgreSQL database, emptied (the bot process connects to it too)."""
    require_service(pg_database is not None, "PostgreSQL does not answer")
    assert pg_database is not None
    engine = make_engine(pg_database)
    await _truncate_all(engine)
    try:
        yield Database("postgres", pg_database, engine, make_session_factory(engine))
    finally:
        await engine.dispose()
