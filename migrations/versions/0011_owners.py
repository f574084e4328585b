"""owners: an inbox row and a claimed outbox row name the worker that holds them

A worker keeps a lease row ``worker:<id>`` alive while it runs; a row whose owner's lease has run
out (the worker was killed) is taken over by another worker at once, instead of waiting for the
row's own lock to expire (an inbox row had none: it waited for a restart).

Revision ID: 0011_owners
Revises: 0010_photos
Create Date: 2026-12-07 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011_owners"
down_revision: str | None = "0010_photos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("inbox_message", "outbox_message"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    for table in ("inbox_message", "outbox_message"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("owner")
