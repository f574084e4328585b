"""giao ban: schedules, meetings, attendance, situation reports (with revisions), conclusions, directives

Revision ID: 0005_giaoban
Revises: 0004_election_record
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005_giaoban"
down_revision: str | None = "0004_election_record"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Str = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "giaoban_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("kind", Str(length=16), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("day", sa.Integer(), nullable=True),
        sa.Column("nth", sa.Integer(), nullable=True),
        sa.Column("at", Str(length=5), nullable=False),
        sa.Column("place", Str(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("giaoban_schedule", "commune_id")
    op.create_table(
        "giaoban_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("starts_at", When(), nullable=False),
        sa.Column("place", Str(length=200), nullable=False),
        sa.Column("schedule_id", sa.Integer(), sa.ForeignKey("giaoban_schedule.id"), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commune_id", "starts_at", name="uq_giaoban_meeting"),
    )
    _index("giaoban_meeting", "commune_id", "starts_at")
    op.create_table(
        "giaoban_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), sa.ForeignKey("giaoban_meeting.id"), nullable=False),
        sa.Column("village_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("attending", sa.Boolean(), nullable=False),
        sa.Column("reason", Str(length=500), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("channel_account.id"), nullable=True),
        sa.Column("answered_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "village_id", name="uq_giaoban_attendance"),
    )
    _index("giaoban_attendance", "meeting_id", "village_id")
    op.create_table(
        "giaoban_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), sa.ForeignKey("giaoban_meeting.id"), nullable=False),
        sa.Column("village_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
        sa.Column("updated_by_account_id", sa.Integer(), sa.ForeignKey("channel_account.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "village_id", name="uq_giaoban_report"),
    )
    _index("giaoban_report", "meeting_id", "village_id")
    op.create_table(
        "giaoban_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("giaoban_report.id"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("channel_account.id"), nullable=True),
        sa.Column("channel", Str(length=16), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "revision", name="uq_giaoban_revision"),
    )
    _index("giaoban_revision", "report_id")
    op.create_table(
        "giaoban_conclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), sa.ForeignKey("giaoban_meeting.id"), nullable=False),
        sa.Column("text", Str(), nullable=False),
        sa.Column("is_task", sa.Boolean(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("created_by", Str(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("giaoban_conclusion", "meeting_id")
    op.create_table(
        "giaoban_directive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conclusion_id", sa.Integer(), sa.ForeignKey("giaoban_conclusion.id"), nullable=False),
        sa.Column("village_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("acknowledged_at", When(), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), sa.ForeignKey("channel_account.id"), nullable=True),
        sa.Column("done_at", When(), nullable=True),
        sa.Column("done_note", Str(length=1000), nullable=True),
        sa.Column("done_by", sa.Integer(), sa.ForeignKey("channel_account.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conclusion_id", "village_id", name="uq_giaoban_directive"),
    )
    _index("giaoban_directive", "conclusion_id", "village_id")


def downgrade() -> None:
    for table in ("giaoban_directive", "giaoban_conclusion", "giaoban_revision", "giaoban_report",
                  "giaoban_attendance", "giaoban_meeting", "giaoban_schedule"):
        op.drop_table(table)
