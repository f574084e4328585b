"""congress: the reason for not merging is a code; a typed reason is kept as a note

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the texts the bot stored before (the catalog's labels at 0001) → their codes
OLD_LABELS = {
    "Trưởng thôn chưa là đảng viên chính thức": "head_not_member",
    "Chi bộ bầu đồng chí khác làm bí thư": "other_elected",
}


def upgrade() -> None:
    with op.batch_alter_table("congress_report") as batch:
        batch.add_column(sa.Column("not_merged_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    report = sa.table("congress_report", sa.column("id", sa.Integer), sa.column("not_merged_reason", sa.String),
                      sa.column("not_merged_note", sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(report.c.id, report.c.not_merged_reason)
                        .where(report.c.not_merged_reason.is_not(None))).all()
    for row_id, reason in rows:
        code = OLD_LABELS.get(reason.strip())
        values = {"not_merged_reason": code} if code else {"not_merged_reason": "other", "not_merged_note": reason}
        conn.execute(sa.update(report).where(report.c.id == row_id).values(**values))


def downgrade() -> None:
    report = sa.table("congress_report", sa.column("not_merged_reason", sa.String),
                      sa.column("not_merged_note", sa.String))
    labels = {code: text for text, code in OLD_LABELS.items()}
    conn = op.get_bind()
    for code, text in labels.items():
        conn.execute(sa.update(report).where(report.c.not_merged_reason == code).values(not_merged_reason=text))
    conn.execute(sa.update(report).where(report.c.not_merged_reason == "other")
                 .values(not_merged_reason=report.c.not_merged_note))
    with op.batch_alter_table("congress_report") as batch:
        batch.drop_column("not_merged_note")
