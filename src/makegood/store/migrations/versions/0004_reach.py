"""reach: each snapshot row keeps its impact minutes; a campaign may set a payment deadline

Revision ID: 0004_reach
Revises: 0004_accounts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reach"
down_revision: str | None = "0004_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: snapshots written before this revision did not keep it.
    with op.batch_alter_table("cohort_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("impact_minutes", sa.Integer(), nullable=True))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pay_within_days", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_campaigns_pay_within_days"), "pay_within_days > 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_campaigns_pay_within_days"), type_="check")
        batch_op.drop_column("pay_within_days")
    with op.batch_alter_table("cohort_members", schema=None) as batch_op:
        batch_op.drop_column("impact_minutes")
