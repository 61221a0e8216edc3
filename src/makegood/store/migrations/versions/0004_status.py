"""status: "where is my credit?" requests, and status e-mails in the outbox

A status e-mail speaks of an account, not of one offer, so messages.offer_id may be null; its
fresh claim links wait in messages.status_links until the server accepted it.

Revision ID: 0004_status
Revises: 0004_fair_credits
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import makegood.store.types

revision: str = "0004_status"
down_revision: str | None = "0004_fair_credits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = makegood.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "credit_status_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_status_requests")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("offer_id", existing_type=sa.String(length=40), nullable=True)
        batch_op.add_column(sa.Column("status_links", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM messages WHERE offer_id IS NULL")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("status_links")
        batch_op.alter_column("offer_id", existing_type=sa.String(length=40), nullable=False)
    op.drop_table("credit_status_requests")
