"""Tables of the web area: console users, their server-side sessions, and API keys.

Secrets are never stored: passwords as argon2 hashes, session ids and API keys as SHA-256.
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables import ID, metadata
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
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)
