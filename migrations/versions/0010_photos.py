"""photos: report_photo (the vote-count record, congress minutes, giao ban reports, tasks reported done);
giaoban_report.photos goes (photos are rows of report_photo, found by meeting and village)

Revision ID: 0010_photos
Revises: 0009_pacing
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010_photos"
down_revision: str | None = "0009_pacing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "report_photo",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("village_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("kind", STR(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("mime_type", STR(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("channel_account.id"), nullable=True),
        sa.Column("channel", STR(length=16), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_report_photo_village_id", "report_photo", ["village_id"])
    op.create_index("ix_report_photo_ref_id", "report_photo", ["ref_id"])
    with op.batch_alter_table("giaoban_report") as batch:  # it only ever held an empty list
        batch.drop_column("photos")


def downgrade() -> None:
    with op.batch_alter_table("giaoban_report") as batch:
        batch.add_column(sa.Column("photos", sa.JSON(), nullable=False, server_default="[]"))
    op.drop_index("ix_report_photo_ref_id", table_name="report_photo")
    op.drop_index("ix_report_photo_village_id", table_name="report_photo")
    op.drop_table("report_photo")
