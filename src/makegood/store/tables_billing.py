"""Billing tables (issue 6): the append-only ledger, connector postings, credit states, reversals.

Money is signed integer minor units. A ledger entry's sign says which way it moves what
makegood still owes an account in one currency: a grant adds, applying it on a statement or
handing it to a billing system subtracts, a charge-back of an already billed credit subtracts
until the charge is billed. The balance of an account and currency is the sum of its entries.
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables_base import ACCOUNT_ID, ID, metadata
from makegood.store.types import UTCDateTime

ENTRY_KINDS = (
    "granted",  # + the credit was granted (claim, grant, automatic launch)
    "applied",  # - part of it was applied on one of our statements
    "posted",  # - a billing system acknowledged it (Stripe, webhook, export ack)
    "reversed",  # - the campaign was reversed before the credit was billed
    "forfeited",  # - the account left (cancelled/paused) and the policy forfeits credits
    "paid_out",  # - the account left and the policy pays the credit out
    "clawback",  # - a reversed credit that was already billed: to be charged back
    "clawback_billed",  # + that charge-back landed on a statement or in the billing system
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),  # signed
    sa.Column("credit_id", ID, sa.ForeignKey("credits.id"), nullable=False),
    sa.Column("statement_id", ID, sa.ForeignKey("statements.id"), nullable=True),
    sa.Column("posting_id", ID, nullable=True),
    sa.Column("reference", sa.String(255), nullable=True),  # e.g. a connector's external id
    # One entry per (kind, credit[, statement]): the database refuses a double application.
    sa.Column("dedupe_key", sa.String(128), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.CheckConstraint(
        "kind IN (" + ", ".join(f"'{k}'" for k in ENTRY_KINDS) + ")",
        name="kind",
    ),
    sa.Index(None, "account_id", "currency"),
    sa.Index(None, "credit_id"),
    sa.Index(None, "statement_id"),
)

# A credit's state when it is anything other than "waiting to be billed": held, settled or
# withdrawn, with the reason an operator or the subscriber's agent can read.
credit_states = sa.Table(
    "credit_states",
    metadata,
    sa.Column("credit_id", ID, sa.ForeignKey("credits.id"), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "state IN ('held', 'forfeited', 'paid_out', 'reversed')",
        name="state",
    ),
)

connector_postings = sa.Table(
    "connector_postings",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("credit_id", ID, sa.ForeignKey("credits.id"), nullable=False),
    sa.Column("connector", sa.String(16), nullable=False),  # stripe | webhook | export
    sa.Column("purpose", sa.String(16), nullable=False),  # credit | reversal
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),  # as sent: credits negative
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("external_id", sa.String(255), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("acked_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("credit_id", "connector", "purpose"),
    sa.UniqueConstraint("connector", "idempotency_key"),
    sa.CheckConstraint(
        "state IN ('pending', 'acked', 'failed', 'skipped', 'cancelled')", name="state"
    ),
    sa.CheckConstraint("purpose IN ('credit', 'reversal')", name="purpose"),
    sa.Index(None, "state", "connector"),
)

campaign_reversals = sa.Table(
    "campaign_reversals",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("campaign_id", ID, sa.ForeignKey("campaigns.id"), nullable=False, unique=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
)
