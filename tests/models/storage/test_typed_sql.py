"""The typing helpers change nothing at run time: the same columns, tables and row counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col

from models import typed_sql
from models.accounts.tables import ChannelAccount
from models.db import transaction
from models.typed_sql import id_col, rowcount, table_of
from models.units.tables import Unit
from tests.conftest import Database

NOW = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)


def test_col_and_id_col_return_the_column_itself() -> None:
    parent = aliased(Unit, name="p")
    assert id_col(Unit.id) is Unit.id
    assert col(parent.code) is not Unit.code  # (an aliased class's attribute is a column too)
    typed = select(id_col(Unit.id), col(parent.code)).join(parent, col(parent.id) == Unit.parent_id)
    plain = select(Unit.id, parent.code).join(parent, parent.id == Unit.parent_id)
    assert str(typed) == str(plain)
    with pytest.raises(RuntimeError):
        id_col(5)


@pytest.mark.parametrize("model", [m.class_ for m in SQLModel._sa_registry.mappers])
def test_table_of_is_the_declared_table(model: type[SQLModel]) -> None:
    assert table_of(model) is model.__table__


def test_the_aliases_are_importable_strings() -> None:
    assert {typed_sql.AnySelect, typed_sql.AnyRow, typed_sql.AnyResult} == {
        "Select[*tuple[Any, ...]]", "Row[*tuple[Any, ...]]", "Result[*tuple[Any, ...]]"}


async def test_rowcount_of_an_update(db: Database) -> None:
    async with transaction(db.sessions) as s:
        s.add_all([ChannelAccount(channel="zalo", external_id=f"u{i}", created_at=NOW) for i in range(3)])
        await s.flush()
        result = await s.execute(update(ChannelAccount).where(col(ChannelAccount.external_id) != "u0")
                                 .values(blocked=True))
        assert rowcount(result) == 2
