"""Appeal tables (issue 15, item 3): "I could not watch either" checked against the logs.

`appeal_links` are the links the status e-mail carries to a subscriber the snapshot did not
find affected: like claim links, only the SHA-256 of the token is stored, with the campaign
whose appeal window bounds it. `appeals` holds at most one appeal per account per incident
(UNIQUE), from `queued` to `offered` or `needs_review`, then `granted` or `declined` by an
agent (domain/appeals.py has the states and the rules).
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables_base import ACCOUNT_ID, ID, metadata
from makegood.store.types import UTCDateTime

APPEAL_STATES = ("queued", "offered", "needs_review", "granted", "declined")

appeal_links = sa.Table(
    "appeal_links",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), nullable=False),
    sa.Column("campaign_id", ID, sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index(None, "account_id", "incident_id"),
)

appeals = sa.Table(
    "appeals",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ACCOUNT_ID, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), nullable=False),
    sa.Column("campaign_id", ID, sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    # The subscriber's "roughly when did you try to watch", one line of plain text (or null).
    sa.Column("note", sa.String(200), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # What the logs showed for the account over the whole window (counts and first/last
    # instants of failures and successes), written when the appeal was processed.
    sa.Column("findings", sa.JSON, nullable=True),
    sa.Column("processed_at", UTCDateTime, nullable=True),
    sa.Column("offer_id", ID, sa.ForeignKey("offers.id"), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("decided_by", sa.String(320), nullable=True),
    sa.Column("reason", sa.String(500), nullable=True),  # why it was declined (or granted)
    # One appeal per account per incident: the invariant lives here.
    sa.UniqueConstraint("account_id", "incident_id"),
    sa.CheckConstraint(
        "state IN ('queued', 'offered', 'needs_review', 'granted', 'declined')", name="state"
    ),
    sa.Index(None, "state", "created_at"),
)
