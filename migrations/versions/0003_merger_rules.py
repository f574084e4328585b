"""merger rules: a planned admission is its own date, how the secretary was chosen and its approval,
party-status events, each commune's congress plan

Revision ID: 0003_merger_rules
Revises: 0002
Create Date: 2026-12-06 02:00:00

Existing rows map onto the new model without loss: a non-member's ``party_date`` (the planned
admission, as 0001/0002 stored it) moves to ``admission_planned_date``; a congress result on file was
chosen at a congress (``method = 'congress'``). A merged result whose head is not a full member stays
as recorded; the status derivation no longer counts it as merged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_merger_rules"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("election_report") as batch:
        batch.add_column(sa.Column("admission_planned_date", sa.Date(), nullable=True))
    with op.batch_alter_table("congress_report") as batch:
        batch.add_column(sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch.add_column(sa.Column("approval_number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.add_column(sa.Column("approval_date", sa.Date(), nullable=True))
    op.create_table(
        "party_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("head_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["channel_account.id"]),
        sa.ForeignKeyConstraint(["village_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_party_event_village_id"), "party_event", ["village_id"], unique=False)
    op.create_table(
        "congress_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by_account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["updated_by_account_id"], ["channel_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id"),
    )
    election = sa.table("election_report", sa.column("party_status", sa.String), sa.column("party_date", sa.Date),
                        sa.column("admission_planned_date", sa.Date))
    congress = sa.table("congress_report", sa.column("held_date", sa.Date), sa.column("method", sa.String))
    conn = op.get_bind()
    conn.execute(sa.update(election).where(election.c.party_status == "non_member",
                                           election.c.party_date.is_not(None))
                 .values(admission_planned_date=election.c.party_date, party_date=None))
    conn.execute(sa.update(congress).where(congress.c.held_date.is_not(None)).values(method="congress"))


def downgrade() -> None:
    election = sa.table("election_report", sa.column("party_status", sa.String), sa.column("party_date", sa.Date),
                        sa.column("admission_planned_date", sa.Date))
    conn = op.get_bind()
    conn.execute(sa.update(election).where(election.c.party_status == "non_member",
                                           election.c.admission_planned_date.is_not(None))
                 .values(party_date=election.c.admission_planned_date))
    op.drop_table("congress_plan")
    op.drop_index(op.f("ix_party_event_village_id"), table_name="party_event")
    op.drop_table("party_event")
    with op.batch_alter_table("congress_report") as batch:
        batch.drop_column("approval_date")
        batch.drop_column("approval_number")
        batch.drop_column("method")
    with op.batch_alter_table("election_report") as batch:
        batch.drop_column("admission_planned_date")
