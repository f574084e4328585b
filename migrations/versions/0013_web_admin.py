"""web admin: a dashboard login can be disabled and shows its last login; an invite can be revoked

Revision ID: 0013_web_admin
Revises: 0012_giaoban_deputy
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013_web_admin"
down_revision: str | None = "0012_giaoban_deputy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_user") as batch:
        batch.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("last_login_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("invite") as batch:
        batch.add_column(sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invite") as batch:
        batch.drop_column("revoked_at")
    with op.batch_alter_table("web_user") as batch:
        batch.drop_column("last_login_at")
        batch.drop_column("disabled")
