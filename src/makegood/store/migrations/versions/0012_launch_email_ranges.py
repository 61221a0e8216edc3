"""launch_email_ranges: the outbox finds pending launch e-mails by id range, not by an index

`ix_offers_email_pending` held an entry per offer whose launch e-mail was pending: a launch
wrote one into it for every offer (one of its 5 index entries per offer; the floor writes 2),
for the outbox's sake alone. `launch_email_ranges` holds a row per write of offers that
left e-mails pending instead (a launch's chunk, an appeal's offer: store/offers.py
`Offers.insert`), [low_id, high_id] of their ids; the outbox takes them by primary-key range
and shrinks or deletes the row as it goes (store/outbox.py `take_launch_emails`).

Offers pending now get one range per campaign, from its lowest to its highest pending id.

Revision ID: 0012_launch_email_ranges
Revises: 0011_offers_token_hash_index
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import makegood.store.types

revision: str = "0012_launch_email_ranges"
down_revision: str | None = "0011_offers_token_hash_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("email_state = 'pending'")


def upgrade() -> None:
    op.create_table(
        "launch_email_ranges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("low_id", sa.String(length=40), nullable=False),
        sa.Column("high_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", makegood.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("low_id <= high_id", name=op.f("ck_launch_email_ranges_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launch_email_ranges")),
    )
    # Before the index goes: it finds the pending offers.
    op.execute(
        "INSERT INTO launch_email_ranges (campaign_id, low_id, high_id, created_at) "
        "SELECT campaign_id, min(id), max(id), min(created_at) FROM offers "
        "WHERE email_state = 'pending' GROUP BY campaign_id ORDER BY min(id)"
    )
    op.drop_index("ix_offers_email_pending", table_name="offers")


def downgrade() -> None:
    op.create_index(
        "ix_offers_email_pending",
        "offers",
        ["id"],
        unique=False,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.drop_table("launch_email_ranges")
