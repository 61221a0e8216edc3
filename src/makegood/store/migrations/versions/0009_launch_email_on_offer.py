"""launch_email_on_offer: a launch writes one row per offer; its e-mail is taken later

A launch used to write two rows per offer: the offer and its launch e-mail (`messages`). The
e-mail is now derived from its offer until an outbox worker takes it (store/outbox.py
`launch_emails`), as the in-app message is:

- `offers.email_state`: 'pending' while the launch e-mail has no `messages` row yet, else null;
- `offers.email_token`: the raw claim link that e-mail will carry (null in automatic mode),
  kept only until it is taken (the `messages` row then holds it until the server accepts it);
- `ix_offers_email_pending`: the offers whose launch e-mail is pending, by id (oldest first).

Existing launch e-mails stay rows of `messages`; nothing is moved.

Revision ID: 0009_launch_email_on_offer
Revises: 0008_launch_lean
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_launch_email_on_offer"
down_revision: str | None = "0008_launch_lean"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("email_state = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("email_token", sa.String(length=128), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_offers_email_state"), "email_state IN ('pending')"
        )
        batch_op.create_index(
            "ix_offers_email_pending",
            ["id"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    # Pending launch e-mails become rows of `messages` again, as the launch wrote them.
    op.execute(
        "INSERT INTO messages (id, offer_id, account_id, channel, template, state, attempts, "
        "unreached, next_attempt_at, claim_token, created_at, urgent) "
        "SELECT 'msg_' || substr(id, 5), id, account_id, 'email', "
        "CASE WHEN email_token IS NULL THEN 'offer_granted' ELSE 'offer_claim' END, "
        "'pending', 0, 0, created_at, email_token, created_at, false "
        "FROM offers WHERE email_state = 'pending'"
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_email_pending")
        batch_op.drop_constraint(batch_op.f("ck_offers_email_state"), type_="check")
        batch_op.drop_column("email_token")
        batch_op.drop_column("email_state")
