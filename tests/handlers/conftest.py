from __future__ import annotations

import pytest

from handlers.engine import Engine
from tests.conftest import Database
from tests.handlers.chat import Province, make_engine, make_province


@pytest.fixture
async def province(db: Database) -> Province:
    return await make_province(db.sessions)


@pytest.fixture
def engine(db: Database) -> Engine:
    return make_engine(db.sessions)
