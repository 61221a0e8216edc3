"""snapshot writes: cohort_members without its per-row foreign key to campaigns

A campaign's snapshot is written in one statement (COPY on PostgreSQL) in the transaction that
holds its campaign row, and every row carries the same campaign_id: the foreign key re-checked
that one campaign row once per snapshot row (on PostgreSQL a trigger per row, about half of the
COPY's time at 680k rows). store.snapshot.write_snapshot now checks the campaign once and
holds it (FOR KEY SHARE) until the snapshot commits; cohort_members has no other writer.

Revision ID: 0006_snapshot_writes
Revises: 0005_appeals
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_snapshot_writes"
down_revision: str | None = "0005_appeals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cohort_members", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_cohort_members_campaign_id_campaigns"), type_="foreignkey"
        )


def downgrade() -> None:
    with op.batch_alter_table("cohort_members", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_cohort_members_campaign_id_campaigns"),
            "campaigns",
            ["campaign_id"],
            ["id"],
        )
