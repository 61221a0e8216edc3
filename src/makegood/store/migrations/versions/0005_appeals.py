"""appeals: appeal links and appeals (one per account per incident); campaigns.appeal_days

Revision ID: 0005_appeals
Revises: 0004_launch
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from makegood.store.types import UTCDateTime

revision: str = "0005_appeals"
down_revision: str | None = "0004_launch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("appeal_days", sa.Integer(), server_default="30", nullable=False)
        )
        batch_op.create_check_constraint(op.f("ck_campaigns_appeal_days"), "appeal_days > 0")
    op.create_table(
        "appeal_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_appeal_links_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_appeal_links_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_appeal_links_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_appeal_links")),
    )
    op.create_index(
        op.f("ix_appeal_links_account_id_incident_id"),
        "appeal_links",
        ["account_id", "incident_id"],
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.Column("offer_id", sa.String(length=40), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'offered', 'needs_review', 'granted', 'declined')",
            name=op.f("ck_appeals_state"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_appeals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_appeals_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_appeals_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_appeals_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint(
            "account_id", "incident_id", name=op.f("uq_appeals_account_id_incident_id")
        ),
    )
    op.create_index(op.f("ix_appeals_state_created_at"), "appeals", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_appeals_state_created_at"), table_name="appeals")
    op.drop_table("appeals")
    op.drop_index(op.f("ix_appeal_links_account_id_incident_id"), table_name="appeal_links")
    op.drop_table("appeal_links")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_campaigns_appeal_days"), type_="check")
        batch_op.drop_column("appeal_days")
