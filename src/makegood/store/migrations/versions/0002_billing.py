"""billing: ledger entries, credit states, connector postings, reversals, stripe customer id

Revision ID: 0002_billing
Revises: 0002_notify
Create Date: 2026-11-24 22:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import makegood.store.types

revision: str = "0002_billing"
down_revision: str | None = "0002_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = makegood.store.types.UTCDateTime(timezone=True)
ENTRY_KINDS = (
    "granted",
    "applied",
    "posted",
    "reversed",
    "forfeited",
    "paid_out",
    "clawback",
    "clawback_billed",
)


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stripe_customer_id", sa.String(length=255), nullable=True))

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_id", sa.String(length=40), nullable=False),
        sa.Column("statement_id", sa.String(length=40), nullable=True),
        sa.Column("posting_id", sa.String(length=40), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in ENTRY_KINDS) + ")",
            name=op.f("ck_ledger_entries_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_ledger_entries_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_id"], ["credits.id"], name=op.f("fk_ledger_entries_credit_id_credits")
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_ledger_entries_statement_id_statements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_ledger_entries_dedupe_key")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_account_id_currency"),
            ["account_id", "currency"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_credit_id"), ["credit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_statement_id"), ["statement_id"], unique=False
        )

    op.create_table(
        "credit_states",
        sa.Column("credit_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "state IN ('held', 'forfeited', 'paid_out', 'reversed')",
            name=op.f("ck_credit_states_state"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_id"], ["credits.id"], name=op.f("fk_credit_states_credit_id_credits")
        ),
        sa.PrimaryKeyConstraint("credit_id", name=op.f("pk_credit_states")),
    )

    op.create_table(
        "connector_postings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("credit_id", sa.String(length=40), nullable=False),
        sa.Column("connector", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("acked_at", UTC_DATETIME, nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'acked', 'failed', 'skipped', 'cancelled')",
            name=op.f("ck_connector_postings_state"),
        ),
        sa.CheckConstraint(
            "purpose IN ('credit', 'reversal')", name=op.f("ck_connector_postings_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["credit_id"], ["credits.id"], name=op.f("fk_connector_postings_credit_id_credits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_postings")),
        sa.UniqueConstraint(
            "credit_id",
            "connector",
            "purpose",
            name=op.f("uq_connector_postings_credit_id_connector_purpose"),
        ),
        sa.UniqueConstraint(
            "connector",
            "idempotency_key",
            name=op.f("uq_connector_postings_connector_idempotency_key"),
        ),
    )
    with op.batch_alter_table("connector_postings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connector_postings_state_connector"),
            ["state", "connector"],
            unique=False,
        )

    op.create_table(
        "campaign_reversals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_reversals_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_reversals")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_reversals_campaign_id")),
    )


def downgrade() -> None:
    op.drop_table("campaign_reversals")
    with op.batch_alter_table("connector_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connector_postings_state_connector"))
    op.drop_table("connector_postings")
    op.drop_table("credit_states")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_statement_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_credit_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_account_id_currency"))
    op.drop_table("ledger_entries")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("stripe_customer_id")
