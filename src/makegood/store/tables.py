"""The schema: one SQLAlchemy Core metadata, migrated by Alembic on SQLite and PostgreSQL.

The metadata and the id types are in tables_base.py; campaigns in tables_campaigns.py (a
command that needs only that table declares only it), re-exported here with the others.
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables_base import ACCOUNT_ID, ID, metadata

# Re-exported (t.campaigns) in the form mypy reads as an export.
from makegood.store.tables_campaigns import campaigns as campaigns  # noqa: PLC0414
from makegood.store.types import UTCDateTime

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("plan_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("monthly_price_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", ACCOUNT_ID, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.plan_id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("country", sa.String(8), nullable=False),
    sa.Column("locale", sa.String(64), nullable=False),
    sa.Column("next_bill_date", sa.Date, nullable=False),
    # The day of month cycles are counted from (31 stays 31 after a short February).
    sa.Column("billing_day", sa.SmallInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Optional: the Stripe customer the Stripe connector posts this account's credits to.
    sa.Column("stripe_customer_id", sa.String(255), nullable=True),
    # Optional: when the subscription was cancelled (a policy may judge status as of the outage).
    sa.Column("cancelled_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("status IN ('active', 'paused', 'cancelled')", name="status"),
    sa.CheckConstraint("billing_day BETWEEN 1 AND 31", name="billing_day"),
    sa.Index(None, "email"),
    sa.Index(None, "next_bill_date"),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("regions", sa.JSON, nullable=False),  # [] means every region
    sa.Column("devices", sa.JSON, nullable=False),  # [] means every device
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(320), nullable=False),
    sa.CheckConstraint("ends_at > starts_at", name="window"),
)

# The draft's snapshot: every affected account with its evidence and the eligibility decision.
cohort_members = sa.Table(
    "cohort_members",
    metadata,
    # No foreign key: every row of a snapshot names the same campaign, which its only writer
    # (store.snapshot.Cohort.write) checks once and holds until the snapshot commits; a key
    # re-checked per row was half the time of writing a large snapshot (migration 0006).
    sa.Column("campaign_id", ID, primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, primary_key=True),  # may be unknown to accounts
    sa.Column("failed_attempts", sa.Integer, nullable=False),
    sa.Column("first_failure_at", UTCDateTime, nullable=False),
    sa.Column("last_failure_at", UTCDateTime, nullable=False),
    sa.Column("excluded_reason", sa.String(32), nullable=True),
    sa.Column("plan_id", sa.String(64), nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("amount_minor", sa.BigInteger, nullable=True),
    # From the first failure to the next success (or the window's end); null in snapshots
    # written before it was kept.
    sa.Column("impact_minutes", sa.Integer, nullable=True),
    # What the amount rests on: the policy's tier (its index in the document, null without
    # tiers) and what the subscriber is told it is for (domain.policy.Why, with its count).
    sa.Column("tier", sa.SmallInteger, nullable=True),
    sa.Column("why", sa.String(32), nullable=True),
    sa.Column("why_count", sa.Integer, nullable=True),
    sa.Index(None, "campaign_id", "excluded_reason"),
)

# A campaign's build as a job (services.build_jobs): what to read, who holds it, how far it got.
# A worker claims a row with a conditional UPDATE and keeps `heartbeat_at` fresh; a row whose
# heartbeat is older than the lease is claimed again (its worker died).
campaign_builds = sa.Table(
    "campaign_builds",
    metadata,
    sa.Column("campaign_id", ID, sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("request", sa.JSON, nullable=False),  # strict, engine, master
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("phase", sa.String(64), nullable=True),
    sa.Column("decided", sa.BigInteger, nullable=False),  # snapshot rows written so far
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("heartbeat_at", UTCDateTime, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),  # why it failed
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("state IN ('pending', 'running', 'done', 'failed')", name="state"),
    sa.Index(None, "state", "created_at"),
)

offers = sa.Table(
    "offers",
    metadata,
    sa.Column("id", ID, primary_key=True),
    # No foreign keys on the ids below (migration 0008): checked row by row they were most of a
    # launch's time. A launch writes offers from the campaign row it holds locked and the
    # cohort's eligible (hence known) accounts, an appeal from the campaign and account rows it
    # read; nothing deletes a parent.
    sa.Column("campaign_id", ID, nullable=False),
    sa.Column("incident_id", ID, nullable=False),
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("plan_id", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("credited_at", UTCDateTime, nullable=True),
    # web | inapp | auto | agent | appeal (granted by an appeal in automatic mode)
    sa.Column("credited_via", sa.String(16), nullable=True),
    # SHA-256 of the claim link the launch e-mail carries (null in automatic mode). Other links
    # of the offer (SMS, push, reminders, replaced ones) are rows of `claim_tokens`. Found by
    # equality only, through a hash index (store/partial_indexes.py; migration 0011).
    sa.Column("token_hash", sa.String(64), nullable=True),
    # The offer's in-app message lives on the offer (store/outbox.py derives it): its state
    # (null: the offer has none), whether another channel failed to reach the account, and
    # the id it had when in-app messages were rows of `messages` (null: derived from the id).
    sa.Column("inapp_state", sa.String(16), nullable=True),
    sa.Column("inapp_urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("inapp_message_id", ID, nullable=True),
    # The offer's launch e-mail while no outbox worker has taken it yet (store/outbox.py
    # `launch_emails` derives it; taking it writes its `messages` row): 'pending', else null,
    # and the raw claim link it will carry (null in automatic mode), kept only until then.
    sa.Column("email_state", sa.String(16), nullable=True),
    sa.Column("email_token", sa.String(128), nullable=True),
    # Once only per account per incident: the invariant lives here, not in application code.
    # Account first: the same index serves every look-up of an account's offers.
    sa.UniqueConstraint("account_id", "incident_id"),
    sa.CheckConstraint("state IN ('open', 'claimed', 'granted', 'revoked')", name="state"),
    sa.CheckConstraint("amount_minor > 0", name="amount"),
    sa.CheckConstraint("inapp_state IN ('unread', 'read', 'dismissed')", name="inapp_state"),
    sa.CheckConstraint("email_state IN ('pending')", name="email_state"),
    sa.Index(None, "campaign_id", "state"),
    # The hash index of its claim links: store/partial_indexes.py.
)

# Where the launch e-mails not taken yet are: one row per write of offers that left some
# pending (a launch's chunk, an appeal's offer), written with them (store/offers.py
# `Offers.insert`). Every offer whose e-mail is pending lies in some row's [low_id, high_id]
# (ids of one write ascend); the outbox takes them by primary-key range, moving `low_id` past
# what it took and deleting the row once nothing in it is pending (store/outbox.py). An index
# entry per offer cost each launch a B-tree insert per offer; this costs a row per chunk
# (migration 0012).
launch_email_ranges = sa.Table(
    "launch_email_ranges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", ID, nullable=False),
    sa.Column("low_id", ID, nullable=False),
    sa.Column("high_id", ID, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("low_id <= high_id", name="range"),
)

claim_tokens = sa.Table(
    "claim_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("offer_id", ID, sa.ForeignKey("offers.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Index(None, "offer_id"),
)

credits = sa.Table(
    "credits",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("offer_id", ID, sa.ForeignKey("offers.id"), nullable=False, unique=True),
    sa.Column("account_id", ACCOUNT_ID, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("campaign_id", ID, sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("granted_at", UTCDateTime, nullable=False),
    sa.Column("applied_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint("applied_minor >= 0 AND applied_minor <= amount_minor", name="applied"),
    sa.Index(None, "account_id", "currency"),
    sa.Index(None, "campaign_id"),
)

statements = sa.Table(
    "statements",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("statement_date", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("account_id", "statement_date"),
)

statement_lines = sa.Table(
    "statement_lines",
    metadata,
    sa.Column("statement_id", ID, sa.ForeignKey("statements.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),  # signed: credits are negative
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("plan_id", sa.String(64), nullable=True),
    sa.Column("credit_id", ID, sa.ForeignKey("credits.id"), nullable=True),
    sa.Column("campaign_id", ID, sa.ForeignKey("campaigns.id"), nullable=True),
    sa.CheckConstraint("kind IN ('charge', 'credit')", name="kind"),
    sa.Index(None, "credit_id"),
)

# A message that is not its offer's launch e-mail (whose id is `msg_` + the offer id's body).
NOT_LAUNCH_EMAIL = "id <> 'msg_' || substr(offer_id, 5)"

# The transactional outbox: written in the same transaction as the offer it speaks of
# (store/outbox.py). In-app messages are not rows here: they are derived from the offers.
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", ID, primary_key=True),
    # Null for a status e-mail ("where is my credit?"), which speaks of the whole account.
    # No foreign keys (migration 0008, as on offers): every writer copies both ids from the
    # offer or account row it read in the same transaction, and neither is ever deleted.
    sa.Column("offer_id", ID, nullable=True),
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column(
        "channel", sa.String(16), nullable=False
    ),  # email | sms | push (in-app: on the offer)
    # offer_claim | offer_granted | offer_reminder | credit_status
    sa.Column("template", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),  # every try
    # Of those, the failed tries that never reached the server: they use no attempt
    # (domain/retry.py), so the attempt limit counts attempts - unreached.
    sa.Column("unreached", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    # The raw claim token, only until the mail server accepted the message; then erased.
    sa.Column("claim_token", sa.String(128), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    # In-app: the e-mail bounced or the address is suppressed, so show this one prominently.
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    # A status e-mail's fresh claim links (offer id -> raw token), erased like claim_token.
    sa.Column("status_links", sa.JSON, nullable=True),
    sa.CheckConstraint(
        "state IN ('pending', 'failed', 'sent', 'dead', 'unread', 'read', 'dismissed')",
        name="state",
    ),
    sa.Index(None, "channel", "state", "next_attempt_at"),
    # Its partial indexes by offer and by account: store/partial_indexes.py.
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject_type", sa.String(32), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index(None, "subject_type", "subject_id"),
)

# "Where is my credit?" (POST /credits): every request is queued here, known address or not, so
# the page does the same work either way; the worker turns each into status e-mails (or
# nothing) and deletes it. The address is kept only until then.
credit_status_requests = sa.Table(
    "credit_status_requests",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
)
