"""Read models across tables: funnels, costs, console lists."""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store import outbox
from makegood.store import tables as t
from makegood.store.credit_deadlines import CreditDeadlines
from makegood.store.credit_status import CreditStatusReports


class Reports(CreditStatusReports, CreditDeadlines):
    """Read models across tables: funnels, costs, console lists (`uow.reports`).

    Larger read models keep their own module and join this class as a base: an account's
    credits (store/credit_status.py), payment deadlines (store/credit_deadlines.py)."""

    def offers_by_state(self) -> list[tuple[str, int]]:
        """(state, how many offers), by state: one GROUP BY (the /metrics gauges)."""
        o = t.offers
        rows = self.conn.execute(
            sa.select(o.c.state, sa.func.count()).group_by(o.c.state).order_by(o.c.state)
        ).all()
        return [(str(state), int(n)) for state, n in rows]

    def messages_by_channel_and_state(self) -> list[tuple[str, str, int]]:
        """(channel, state, how many messages), stored and in-app ones alike: one GROUP BY."""
        m = outbox.all_messages()
        rows = self.conn.execute(
            sa.select(m.c.channel, m.c.state, sa.func.count())
            .group_by(m.c.channel, m.c.state)
            .order_by(m.c.channel, m.c.state)
        ).all()
        return [(str(channel), str(state), int(n)) for channel, state, n in rows]
