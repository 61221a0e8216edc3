"""offers_token_hash_index: the offers' claim links are found through a hash index

`offers.token_hash` (the SHA-256 of the claim link an offer's launch e-mail carries) was a
UNIQUE B-tree: 64 characters per offer, inserted at a random place of the tree, a fifth of
the server's work in a launch. It is only ever looked up by equality, and a link is 32 random
bytes: `ix_offers_token_hash` is a hash index on PostgreSQL (an ordinary index on SQLite),
and nothing else changes. Building it reads every offer once.

Revision ID: 0011_offers_token_hash_index
Revises: 0010_campaign_min_failures
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_offers_token_hash_index"
down_revision: str | None = "0010_campaign_min_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_offers_token_hash"), type_="unique")
        batch_op.create_index(
            "ix_offers_token_hash", ["token_hash"], unique=False, postgresql_using="hash"
        )


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_token_hash", postgresql_using="hash")
        batch_op.create_unique_constraint(batch_op.f("uq_offers_token_hash"), ["token_hash"])
