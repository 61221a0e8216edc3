"""notify: delivery events, suppressions, urgent in-app messages

Revision ID: 0002_notify
Revises: 0002_web
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import makegood.store.types

revision: str = "0002_notify"
down_revision: str | None = "0002_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = makegood.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "message_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('accepted', 'deferred', 'bounced', 'complained', 'delivered', 'suppressed')",
            name=op.f("ck_message_events_kind"),
        ),
        sa.CheckConstraint(
            "source IN ('smtp', 'dsn', 'webhook', 'worker')", name=op.f("ck_message_events_source")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_events_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_events")),
    )
    with op.batch_alter_table("message_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_events_message_id_at"), ["message_id", "at"], unique=False
        )
    op.create_table(
        "suppressions",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "reason IN ('bounced', 'complained', 'manual')", name=op.f("ck_suppressions_reason")
        ),
        sa.PrimaryKeyConstraint("address_hash", name=op.f("pk_suppressions")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("urgent")
    op.drop_table("suppressions")
    with op.batch_alter_table("message_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_events_message_id_at"))
    op.drop_table("message_events")
