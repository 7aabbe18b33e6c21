"""scan log indexes: BRIN on scans.at (PostgreSQL), partial index on flagged serials

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGGED = sa.text("flagged_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_scans_at", table_name="scans")
    op.create_index("ix_scans_at", "scans", ["at"], postgresql_using="brin")
    op.drop_index("ix_serial_summaries_flagged_at", table_name="serial_summaries")
    op.create_index(
        "ix_serial_summaries_flagged_at",
        "serial_summaries",
        ["flagged_at"],
        postgresql_where=FLAGGED,
        sqlite_where=FLAGGED,
    )


def downgrade() -> None:
    op.drop_index("ix_serial_summaries_flagged_at", table_name="serial_summaries")
    op.create_index("ix_serial_summaries_flagged_at", "serial_summaries", ["flagged_at"])
    op.drop_index("ix_scans_at", table_name="scans")
    op.create_index("ix_scans_at", "scans", ["at"])
