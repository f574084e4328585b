"""giaoban deputy: giaoban_attendance.deputy, the name of whoever attends in the branch secretary's place

Revision ID: 0012_giaoban_deputy
Revises: 0011_owners
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012_giaoban_deputy"
down_revision: str | None = "0011_owners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("giaoban_attendance") as batch:
        batch.add_column(sa.Column("deputy", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("giaoban_attendance") as batch:
        batch.drop_column("deputy")
