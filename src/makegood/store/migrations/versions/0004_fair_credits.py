"""fair credits: accounts.cancelled_at; the snapshot's tier and why of each amount

Revision ID: 0004_fair_credits
Revises: 0004_reach
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import makegood.store.types

revision: str = "0004_fair_credits"
down_revision: str | None = "0004_reach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = makegood.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("cancelled_at", UTC, nullable=True))
    with op.batch_alter_table("cohort_members") as batch:
        batch.add_column(sa.Column("tier", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("why", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("why_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cohort_members") as batch:
        for column in ("why_count", "why", "tier"):
            batch.drop_column(column)
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("cancelled_at")
