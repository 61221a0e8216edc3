"""launch_lean: fewer per-row costs in what a launch writes per offer

- Drops the foreign keys of `offers` (campaign_id, incident_id, account_id) and of `messages`
  (offer_id, account_id). Checked row by row, they were more than half of the database's time in
a launch (docs/performance.md, section Launch). The references still hold: no code path
deletes an account, incident, campaign, offer or message, and every writer takes the ids it
writes from rows it reads in the same transaction (docs/architecture.md, "Where exactly-once
lives").
- `ix_messages_account_id` keeps only messages of no offer (status e-mails): an offer's
  messages are found through the offer, so a launch e-mail adds no entry to it;
- `ix_messages_offer_id` keeps every message of an offer but its launch e-mail, which its id
  (`msg_` + the offer id's body) finds: a launch e-mail adds no entry to it either.

Revision ID: 0008_launch_lean
Revises: 0007_unreached
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_launch_lean"
down_revision: str | None = "0007_unreached"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referenced table, referenced column)
_DROPPED = (
    ("offers", "campaign_id", "campaigns", "id"),
    ("offers", "incident_id", "incidents", "id"),
    ("offers", "account_id", "accounts", "account_id"),
    ("messages", "offer_id", "offers", "id"),
    ("messages", "account_id", "accounts", "account_id"),
)


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


# (index, column, what it keeps)
_PARTIAL = (
    ("ix_messages_account_id", "account_id", sa.text("offer_id IS NULL")),
    ("ix_messages_offer_id", "offer_id", sa.text("id <> 'msg_' || substr(offer_id, 5)")),
)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for name, column, where in _PARTIAL:
            batch_op.drop_index(batch_op.f(name))
            batch_op.create_index(
                batch_op.f(name),
                [column],
                unique=False,
                postgresql_where=where,
                sqlite_where=where,
            )
    for table in ("offers", "messages"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, referred, _ in _DROPPED:
                if name == table:
                    batch_op.drop_constraint(
                        batch_op.f(_name(table, column, referred)), type_="foreignkey"
                    )


def downgrade() -> None:
    for table in ("messages", "offers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, referred, referred_column in _DROPPED:
                if name == table:
                    batch_op.create_foreign_key(
                        batch_op.f(_name(table, column, referred)),
                        referred,
                        [column],
                        [referred_column],
                    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for name, column, _ in _PARTIAL:
            batch_op.drop_index(batch_op.f(name))
            batch_op.create_index(batch_op.f(name), [column], unique=False)
