"""Notification tables (issue 5): what happened to each message, and who must not be mailed.

`message_events` is the delivery history support reads ("did the e-mail reach them?"):
accepted / deferred / bounced / complained, from SMTP replies, bounce messages (DSN) and the
provider's signed webhook. `suppressions` holds addresses that bounced or complained, by the
sha256 of the normalised address, so a lookup never needs the plain address.
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables_base import ID, metadata
from makegood.store.types import UTCDateTime

EVENT_KINDS = ("accepted", "deferred", "bounced", "complained", "delivered", "suppressed")
EVENT_SOURCES = ("smtp", "dsn", "webhook", "worker")
SUPPRESSION_REASONS = ("bounced", "complained", "manual")

message_events = sa.Table(
    "message_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("detail", sa.Text, nullable=True),  # server reply or status, addresses masked
    sa.CheckConstraint(
        "kind IN ('accepted', 'deferred', 'bounced', 'complained', 'delivered', 'suppressed')",
        name="kind",
    ),
    sa.CheckConstraint("source IN ('smtp', 'dsn', 'webhook', 'worker')", name="source"),
    sa.Index(None, "message_id", "at"),
)

suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("address_hash", sa.String(64), primary_key=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("message_id", ID, nullable=True),  # the message that revealed it, when known
    sa.CheckConstraint("reason IN ('bounced', 'complained', 'manual')", name="reason"),
)
