"""The campaigns table: a campaign's terms, state and launch progress.

Apart from tables.py (which re-exports it) so that a command that reads only campaigns,
`makegood campaign approve`, declares this table and not the thirteen of tables.py: building them
was about a twentieth of a no-work command's start-up (issue 13, item 4;
tests/integration/test_cli_startup_imports.py). Its foreign key names `incidents` by name,
resolved only when the schema is used whole (the migrations and their checks, all_tables.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables_base import ACCOUNT_ID, ID, metadata
from makegood.store.types import UTCDateTime

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("incident_id", ID, sa.ForeignKey("incidents.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("policy", sa.JSON, nullable=False),
    sa.Column("claim_days", sa.Integer, nullable=False),
    sa.Column("eligible_plans", sa.JSON, nullable=True),  # null means every plan
    sa.Column("events_source", sa.Text, nullable=False),
    sa.Column("affected_count", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(320), nullable=False),
    sa.Column("approved_at", UTCDateTime, nullable=True),
    sa.Column("approved_by", sa.String(320), nullable=True),
    sa.Column("launched_at", UTCDateTime, nullable=True),
    sa.Column("launched_by", sa.String(320), nullable=True),
    # Days within which a claimed or granted credit must be applied (null: no deadline).
    sa.Column("pay_within_days", sa.Integer, nullable=True),
    # A launch commits in chunks: while `launching`, how many offers are issued out of how many
    # eligible accounts, and the last account id of the last committed chunk (where to resume).
    sa.Column("launch_issued", sa.Integer, nullable=True),
    sa.Column("launch_total", sa.Integer, nullable=True),
    sa.Column("launch_cursor", ACCOUNT_ID, nullable=True),
    # Days from launch during which a subscriber the snapshot did not find may appeal.
    sa.Column("appeal_days", sa.Integer, nullable=False, server_default="30"),
    # The failed attempts an account needed to be affected (`--min-failures`); appeals use it too.
    sa.Column("min_failures", sa.Integer, nullable=False, server_default="1"),
    sa.CheckConstraint(
        "state IN ('building', 'failed', 'draft', 'approved', 'launching', 'launched')",
        name="state",
    ),
    sa.CheckConstraint("mode IN ('claim', 'auto')", name="mode"),
    sa.CheckConstraint("claim_days > 0", name="claim_days"),
    sa.CheckConstraint("pay_within_days > 0", name="pay_within_days"),
    sa.CheckConstraint("appeal_days > 0", name="appeal_days"),
    sa.CheckConstraint("min_failures >= 1", name="min_failures"),
    sa.Index(None, "incident_id"),
)
