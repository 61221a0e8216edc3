"""Reads the tests make of stored rows (counts by state)."""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store import outbox


def email_states(engine: sa.Engine) -> dict[str, int]:
    """E-mails by state, launch e-mails still on their offers as `pending`."""
    m = outbox.all_messages()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.c.state, sa.func.count()).where(m.c.channel == "email").group_by(m.c.state)
        ).all()
    return {state: int(n) for state, n in rows}
