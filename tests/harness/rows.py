"""Reads the tests make of stored rows (counts by state)."""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store import tables as t


def email_states(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.messages.c.state, sa.func.count())
            .where(t.messages.c.channel == "email")
            .group_by(t.messages.c.state)
        ).all()
    return {state: int(n) for state, n in rows}
