"""campaign_min_failures: a campaign keeps the failed-attempt threshold its cohort used

`campaigns.min_failures` (`campaign create --min-failures`, at least 1): an appeal is judged under
the same threshold (services/appeal_processing.py). Campaigns built by a worker take theirs from
the build's request, where it was kept; the others were built by the command, whose value was
not stored: they read 1, the default.

Revision ID: 0010_campaign_min_failures
Revises: 0009_launch_email_on_offer
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_campaign_min_failures"
down_revision: str | None = "0009_launch_email_on_offer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.add_column(
            "campaigns", sa.Column("min_failures", sa.Integer(), server_default="1", nullable=False)
        )
        op.create_check_constraint(
            op.f("ck_campaigns_min_failures"), "campaigns", "min_failures >= 1"
        )
        requested = "(b.request ->> 'min_failures')::integer"
    else:
        # In place: SQLite adds a column with a constant default without copying the table,
        # as a batch rebuild of `campaigns` would.
        op.execute(
            "ALTER TABLE campaigns ADD COLUMN min_failures INTEGER DEFAULT 1 NOT NULL "
            "CONSTRAINT ck_campaigns_min_failures CHECK (min_failures >= 1)"
        )
        requested = "CAST(json_extract(b.request, '$.min_failures') AS INTEGER)"
    op.execute(
        f"UPDATE campaigns SET min_failures = (SELECT {requested} FROM campaign_builds b "  # noqa: S608
        "WHERE b.campaign_id = campaigns.id) WHERE id IN (SELECT campaign_id FROM "
        f"campaign_builds b WHERE {requested} >= 1)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_campaigns_min_failures"), "campaigns", type_="check")
        op.drop_column("campaigns", "min_failures")
    else:
        op.execute("ALTER TABLE campaigns DROP COLUMN min_failures")
