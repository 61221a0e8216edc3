"""Tables of the web area: console users, their server-side sessions, and API keys.

Secrets are never stored: passwords as argon2 hashes, session ids and API keys as SHA-256.
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables_base import ID, metadata
from makegood.store.types import UTCDateTime

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    # Currency -> the most an agent may grant at once, in minor units ({} means nothing).
    sa.Column("grant_limits", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("disabled_at", UTCDateTime, nullable=True),
    # Raised by every change that must end the user's sessions (disable, role, password); a
    # session opened under another version opens nothing (services.users.resolve_session).
    sa.Column("session_version", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("role IN ('viewer', 'agent', 'approver', 'admin')", name="role"),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    # SHA-256 of the random id the cookie carries: a stolen table opens no session.
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    # Per-session CSRF secret: every console form carries an HMAC derived from it.
    sa.Column("csrf_secret", sa.String(64), nullable=False),
    # The user's session_version when the password was checked: a change in between kills it.
    sa.Column("user_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index(None, "user_id"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.JSON, nullable=False),
    # The console user who stands behind the key (four-eyes rule, lock-out); null: the key is
    # its own person.
    sa.Column("owner_user_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

incident_detections = sa.Table(
    "incident_detections",
    metadata,
    # At most one per incident: the detection it was declared from (none: declared by hand).
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("bucket", sa.String(16), nullable=False),  # as given: 30s, 1m, 5m, 1h
    sa.Column("bucket_seconds", sa.Integer, nullable=False),
    sa.Column("by_columns", sa.JSON, nullable=False),  # the --by columns, in order
    sa.Column("rule", sa.JSON, nullable=False),  # DetectionRule.as_dict()
    sa.Column("window", sa.JSON, nullable=False),  # Window.as_dict(by): the proposed window
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("window_end", UTCDateTime, nullable=False),
    # [{start, segment, attempts, failures, baseline}] per bucket of the window's segments,
    # the window and some context around it; bounded by services.detections.
    sa.Column("series", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
