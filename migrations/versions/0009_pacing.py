"""pacing: one send calendar for every worker (the platforms' rate limits, shared retry_after)

Revision ID: 0009_pacing
Revises: 0008_leases
Create Date: 2026-12-06 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_pacing"
down_revision: str | None = "0008_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Book a slot (see models/pacing.py): >= 0 booked, wait that long; < 0 not booked, ask again after -value.
# Rows are locked chat first, then the channel's overall row, by every caller: no deadlock.
PACE_TAKE = """
CREATE OR REPLACE FUNCTION pace_take(p_overall text, p_chat text, p_now double precision,
    p_interval double precision, p_chat_interval double precision, p_tolerance double precision,
    p_horizon double precision) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    c_tat double precision; c_block double precision; a_next double precision; a_block double precision;
    earliest double precision; slot double precision;
BEGIN
    INSERT INTO pace (key, next_at, blocked_until) VALUES (p_chat, 0, 0) ON CONFLICT (key) DO NOTHING;
    SELECT next_at, blocked_until INTO c_tat, c_block FROM pace WHERE key = p_chat FOR UPDATE;
    earliest := GREATEST(c_tat - p_tolerance, c_block);
    IF earliest > p_now THEN
        RETURN -(earliest - p_now);
    END IF;
    INSERT INTO pace (key, next_at, blocked_until) VALUES (p_overall, 0, 0) ON CONFLICT (key) DO NOTHING;
    SELECT next_at, blocked_until INTO a_next, a_block FROM pace WHERE key = p_overall FOR UPDATE;
    slot := GREATEST(a_next, a_block, p_now);
    IF p_horizon IS NOT NULL AND slot - p_now > p_horizon THEN
        RETURN -(slot - p_now - p_horizon);
    END IF;
    UPDATE pace SET next_at = slot + p_interval WHERE key = p_overall;
    UPDATE pace SET next_at = GREATEST(c_tat, slot) + p_chat_interval WHERE key = p_chat;
    RETURN slot - p_now;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "pace",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PACE_TAKE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS pace_take")
    op.drop_table("pace")
