"""accounts: locking console users out (session versions) and the owner of each API key

Revision ID: 0004_accounts
Revises: 0003_web
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_accounts"
down_revision: str | None = "0003_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(
            sa.Column("user_version", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("owner_user_id", sa.String(length=40), nullable=True))
        batch.create_foreign_key(
            op.f("fk_api_keys_owner_user_id_users"), "users", ["owner_user_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint(op.f("fk_api_keys_owner_user_id_users"), type_="foreignkey")
        batch.drop_column("owner_user_id")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("user_version")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
