"""unreached: a message's tries that never reached the server, apart from its attempts

One retry rule for every channel (domain/retry.py): a try that got no answer uses no attempt,
so the outbox keeps how many of a message's tries (`attempts`, all of them) were of that kind.

Revision ID: 0007_unreached
Revises: 0006_snapshot_writes
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_unreached"
down_revision: str | None = "0006_snapshot_writes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unreached", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("unreached")
