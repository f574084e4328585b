"""Typing helpers for SQLAlchemy 2 statements over the SQLModel tables; none changes the SQL.

- A table model's column attribute is typed as its Python value (``Unit.id: int | None``), so a
  type checker reads ``Unit.id.in_(ids)`` as an error and ``Unit.level == "village"`` as a ``bool``.
  Wrap the attribute in :func:`sqlmodel.col` where it is used as a column: ``col(Unit.id).in_(ids)``,
  ``select(col(Unit.id), col(Unit.code))``, ``col(Unit.level) == "village"``. ``col`` returns its
  argument unchanged (and raises for anything but a column), so the statement and its SQL are the same.
  The same holds for the attributes of ``aliased(Unit)``. :func:`id_col` is ``col`` for a primary key,
  typed as never NULL (``Mapped[int]``): the ``int | None`` of the model is for a row not yet inserted.
- :data:`AnySelect`, :data:`AnyRow`, :data:`AnyResult`: a statement, row or result whose columns are not
  tracked (SQLAlchemy 2.1 types them with a variadic parameter: ``Select[Any]`` means ONE column).
- :func:`rowcount`: the row count of an INSERT/UPDATE/DELETE run with ``session.execute``.
- :func:`table_of`: the Core :class:`~sqlalchemy.Table` of a table model (``Model.__table__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, cast

from sqlalchemy import Table, inspect
from sqlmodel import col

if TYPE_CHECKING:
    from sqlalchemy import CursorResult, Result, Row, Select
    from sqlalchemy.orm import Mapped
    from sqlmodel import SQLModel

# strings: the variadic form is for the type checker only (SQLAlchemy 2.0's Select takes one parameter)
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"
AnyRow: TypeAlias = "Row[*tuple[Any, ...]]"
AnyResult: TypeAlias = "Result[*tuple[Any, ...]]"


def id_col(column: int | None) -> Mapped[int]:
    """``col(Model.id)``, typed as never NULL: a primary key read back from its table has a value."""
    return cast("Mapped[int]", col(column))


def rowcount(result: AnyResult) -> int:
    """The rows an INSERT, UPDATE or DELETE run with ``session.execute`` touched: its result is a
    :class:`~sqlalchemy.CursorResult`, though the session's signature says :class:`~sqlalchemy.Result`."""
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model: ``model.__table__``, which SQLModel does not declare for type
    checkers (it is the mapper's table)."""
    return cast(Table, inspect(model).local_table)
