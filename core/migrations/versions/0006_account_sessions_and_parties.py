"""account session version; enterprise and printer accounts must name their party

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy, not an import of the model's: a migration must keep meaning what it meant when written.
ROLE_PARTY_CHECK = (
    "(role <> 'enterprise' OR enterprise_id IS NOT NULL)"
    " AND (role <> 'printer' OR printer_id IS NOT NULL)"
)


def upgrade() -> None:
    # Fail with the reason rather than a bare constraint violation: such rows were never
    # creatable through the service, so they need a person to decide what they were meant for.
    orphans = op.get_bind().scalar(
        sa.text(f"SELECT count(*) FROM accounts WHERE NOT ({ROLE_PARTY_CHECK})")
    )
    if orphans:
        raise RuntimeError(
            f"{orphans} enterprise/printer account(s) name no party; set enterprise_id/printer_id"
            " or delete them before upgrading / 有企业或印制企业账户未指定所属单位，请先修正"
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.create_check_constraint(op.f("ck_accounts_role_party"), ROLE_PARTY_CHECK)


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_accounts_role_party"), type_="check")
        batch_op.drop_column("session_version")
