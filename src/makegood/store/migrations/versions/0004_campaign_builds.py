"""campaign builds: a campaign may be `building` (a job computes its snapshot) or `failed`

Revision ID: 0004_campaign_builds
Revises: 0004_status
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import makegood.store.types

revision: str = "0004_campaign_builds"
down_revision: str | None = "0004_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = makegood.store.types.UTCDateTime(timezone=True)
_STATES = "'draft', 'approved', 'launched'"
_WITH_BUILDS = "'building', 'failed', " + _STATES


def _campaign_states(states: str) -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint(op.f("ck_campaigns_state"), type_="check")
        batch.create_check_constraint(op.f("ck_campaigns_state"), f"state IN ({states})")


def upgrade() -> None:
    _campaign_states(_WITH_BUILDS)
    op.create_table(
        "campaign_builds",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=64), nullable=True),
        sa.Column("decided", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", UTC, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'done', 'failed')",
            name=op.f("ck_campaign_builds_state"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_builds_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_builds")),
    )
    op.create_index(
        op.f("ix_campaign_builds_state_created_at"),
        "campaign_builds",
        ["state", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_builds_state_created_at"), table_name="campaign_builds")
    op.drop_table("campaign_builds")
    op.execute(
        "DELETE FROM cohort_members WHERE campaign_id IN (SELECT id FROM campaigns "
        "WHERE state IN ('building', 'failed'))"
    )
    op.execute("DELETE FROM campaigns WHERE state IN ('building', 'failed')")
    _campaign_states(_STATES)
