"""launch: chunked, resumable launch; fewer rows per offer

- campaigns: state `launching`, with the launch's progress (issued, total, cursor);
- offers.token_hash (UNIQUE): the launch e-mail's claim link, copied from `claim_tokens`;
- offers.inapp_state / inapp_urgent / inapp_message_id: the in-app message, copied from the
  `messages` rows of channel `inapp`, which are then deleted;
- offers: UNIQUE (account_id, incident_id) replaces UNIQUE (incident_id, account_id) and the
  index on account_id (one index entry less per offer, the same invariant).

Revision ID: 0004_launch
Revises: 0004_campaign_builds
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_launch"
down_revision: str | None = "0004_campaign_builds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES_BEFORE = "state IN ('building', 'failed', 'draft', 'approved', 'launched')"
STATES_AFTER = "state IN ('building', 'failed', 'draft', 'approved', 'launching', 'launched')"

# The in-app row of each offer that had one (the newest, should a test world hold several).
_INAPP = (
    "SELECT {col} FROM messages AS m WHERE m.offer_id = offers.id AND m.channel = 'inapp' "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT 1"
)
# The launch's link: the offer's first live token.
_FIRST_LINK = (
    "SELECT ct.token_hash FROM claim_tokens AS ct WHERE ct.offer_id = offers.id "
    "AND ct.revoked_at IS NULL ORDER BY ct.created_at, ct.token_hash LIMIT 1"
)


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("launch_issued", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("launch_total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("launch_cursor", sa.String(length=64), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_campaigns_state"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_campaigns_state"), STATES_AFTER)
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("inapp_state", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("inapp_urgent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("inapp_message_id", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_offers_token_hash"), ["token_hash"])
        # Account first, so that the unique index also serves look-ups by account alone.
        batch_op.drop_constraint(batch_op.f("uq_offers_incident_id_account_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_offers_account_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_offers_account_id_incident_id"), ["account_id", "incident_id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_offers_inapp_state"), "inapp_state IN ('unread', 'read', 'dismissed')"
        )
    # Data: each offer's launch link and in-app message move onto the offer row.
    op.execute(f"UPDATE offers SET token_hash = ({_FIRST_LINK})")  # noqa: S608
    op.execute(
        "DELETE FROM claim_tokens WHERE token_hash IN "
        "(SELECT token_hash FROM offers WHERE token_hash IS NOT NULL)"
    )
    op.execute(
        "UPDATE offers SET "  # noqa: S608
        f"inapp_state = ({_INAPP.format(col='m.state')}), "
        f"inapp_urgent = COALESCE(({_INAPP.format(col='m.urgent')}), false), "
        f"inapp_message_id = ({_INAPP.format(col='m.id')})"
    )
    op.execute(
        "DELETE FROM message_events WHERE message_id IN "
        "(SELECT id FROM messages WHERE channel = 'inapp')"
    )
    op.execute("DELETE FROM messages WHERE channel = 'inapp'")


def downgrade() -> None:
    # Derived in-app messages become rows again (ids: the stored one, else derived as today).
    op.execute(
        "INSERT INTO messages (id, offer_id, account_id, channel, template, state, attempts, "
        "next_attempt_at, created_at, urgent) "
        "SELECT COALESCE(inapp_message_id, 'app_' || substr(id, 5)), id, account_id, 'inapp', "
        "CASE WHEN credited_via = 'auto' THEN 'offer_granted' ELSE 'offer_claim' END, "
        "inapp_state, 0, created_at, created_at, inapp_urgent "
        "FROM offers WHERE inapp_state IS NOT NULL"
    )
    op.execute(
        "INSERT INTO claim_tokens (token_hash, offer_id, created_at) "
        "SELECT token_hash, id, created_at FROM offers WHERE token_hash IS NOT NULL"
    )
    op.execute("UPDATE campaigns SET state = 'approved' WHERE state = 'launching'")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_offers_inapp_state"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_offers_token_hash"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_offers_account_id_incident_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_offers_incident_id_account_id"), ["incident_id", "account_id"]
        )
        batch_op.create_index(batch_op.f("ix_offers_account_id"), ["account_id"], unique=False)
        batch_op.drop_column("inapp_message_id")
        batch_op.drop_column("inapp_urgent")
        batch_op.drop_column("inapp_state")
        batch_op.drop_column("token_hash")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_campaigns_state"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_campaigns_state"), STATES_BEFORE)
        batch_op.drop_column("launch_cursor")
        batch_op.drop_column("launch_total")
        batch_op.drop_column("launch_issued")
