"""election report: the vote-count record (attendees, ballots issued, invalid), validity, the election's
number and kind, the winner's phone, the commune's recognition, the term and a vacancy; the vacancy
table (resignation, dismissal, recall; interim head); unit_lineage (village mergers and splits)

Revision ID: 0004_election_record
Revises: 0003_merger_rules
Create Date: 2026-12-06 02:30:00

Existing results stay as they were reported; ``valid`` is judged on what they hold (the winner's
majority of the roll; attendees were not asked), so a result counted "elected" with a warning before
is ``revote_needed`` now, as the law says.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_election_record"
down_revision: str | None = "0003_merger_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("election_report") as batch:
        batch.add_column(sa.Column("attendees", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ballots_issued", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("invalid_ballots", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("valid", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("election_no", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("election_kind", STR(length=16), nullable=False, server_default="regular"))
        batch.add_column(sa.Column("head_phone", STR(length=20), nullable=True))
        batch.add_column(sa.Column("recognition", STR(length=16), nullable=True))
        batch.add_column(sa.Column("recognition_decision", STR(length=80), nullable=True))
        batch.add_column(sa.Column("recognition_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reported_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("term_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("term_end", sa.Date(), nullable=True))
        batch.add_column(sa.Column("vacated_on", sa.Date(), nullable=True))
    op.create_table(
        "vacancy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("village_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("election_no", sa.Integer(), nullable=False),
        sa.Column("kind", STR(length=16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("reason", STR(length=500), nullable=False),
        sa.Column("interim_head", STR(length=120), nullable=True),
        sa.Column("interim_appointed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_vacancy_village_id", "vacancy", ["village_id"])
    op.create_table(
        "unit_lineage",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("old_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("new_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("kind", STR(length=8), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_unit_lineage_old_id", "unit_lineage", ["old_id"])
    op.create_index("ix_unit_lineage_new_id", "unit_lineage", ["new_id"])
    report = sa.table("election_report", sa.column("votes_for", sa.Integer), sa.column("roll", sa.Integer),
                      sa.column("valid", sa.Boolean))
    op.get_bind().execute(sa.update(report).values(valid=report.c.votes_for * 2 > report.c.roll))


def downgrade() -> None:
    op.drop_index("ix_unit_lineage_new_id", table_name="unit_lineage")
    op.drop_index("ix_unit_lineage_old_id", table_name="unit_lineage")
    op.drop_table("unit_lineage")
    op.drop_index("ix_vacancy_village_id", table_name="vacancy")
    op.drop_table("vacancy")
    with op.batch_alter_table("election_report") as batch:
        for name in ("vacated_on", "term_end", "term_start", "reported_on", "recognition_date",
                     "recognition_decision", "recognition", "head_phone", "election_kind", "election_no", "valid",
                     "invalid_ballots", "ballots_issued", "attendees"):
            batch.drop_column(name)
