"""flag clearances: an inspector's decision that a flagged serial is not copied

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gimark.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flag_clearances",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("at", gimark.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cleared_reasons", sa.String(length=100), nullable=False),
        sa.Column("flagged_at", gimark.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scanner_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_clearances")),
    )
    with op.batch_alter_table("flag_clearances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_clearances_serial"), ["serial"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flag_clearances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_clearances_serial"))
    op.drop_table("flag_clearances")
