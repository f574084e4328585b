from __future__ import annotations

import pytest

from tests.conftest import Database


@pytest.fixture
def pg(pg_db: Database) -> Database:
    """The session's PostgreSQL database, emptied (the bot process connects to it too): ``pg_db``."""
    return pg_db
