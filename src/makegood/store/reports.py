"""Read models across tables: a campaign's funnel, the console's lists and look-ups, where an
account stands (`store/credit_status.py`). Reads only (`uow.reports`)."""

from __future__ import annotations

from typing import Any

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

    def _count(self, query: sa.Select[Any]) -> int:
        return int(self.conn.execute(query).scalar_one())

    def funnel(self, campaign_id: str) -> dict[str, Any]:
        """A campaign's offers, e-mails and credits counted: `offered`, `notified` (offers whose
        e-mail was sent), `by_state` (offer state -> count), `applied` (credits with something
        applied), `granted_minor` and `applied_minor` (currency -> sum) and `messages`
        ((channel, state) -> count)."""
        o, m, c = t.offers, outbox.all_messages(), t.credits
        offered = self._count(sa.select(sa.func.count()).where(o.c.campaign_id == campaign_id))
        notified = self._count(
            sa.select(sa.func.count(sa.distinct(m.c.offer_id)))
            .select_from(m.join(o, o.c.id == m.c.offer_id))
            .where(o.c.campaign_id == campaign_id, m.c.channel == "email", m.c.state == "sent")
        )
        by_state = self.conn.execute(
            sa.select(o.c.state, sa.func.count())
            .where(o.c.campaign_id == campaign_id)
            .group_by(o.c.state)
        ).all()
        applied = self._count(
            sa.select(sa.func.count()).where(c.c.campaign_id == campaign_id, c.c.applied_minor > 0)
        )

        def per_currency(column: sa.ColumnElement[Any]) -> list[tuple[Any, Any]]:
            query = (
                sa.select(c.c.currency, sa.func.sum(column))
                .where(c.c.campaign_id == campaign_id)
                .group_by(c.c.currency)
                .order_by(c.c.currency)
            )
            return [(r[0], r[1]) for r in self.conn.execute(query)]

        granted_minor = per_currency(c.c.amount_minor)
        applied_minor = per_currency(c.c.applied_minor)
        messages = self.conn.execute(
            sa.select(m.c.channel, m.c.state, sa.func.count())
            .select_from(m.join(o, o.c.id == m.c.offer_id))
            .where(o.c.campaign_id == campaign_id)
            .group_by(m.c.channel, m.c.state)
        ).all()
        return {
            "offered": offered,
            "notified": notified,
            "by_state": {str(r[0]): int(r[1]) for r in by_state},
            "applied": applied,
            "granted_minor": granted_minor,
            "applied_minor": applied_minor,
            "messages": [(channel, state, count) for channel, state, count in messages],
        }

    # The console's lists and look-ups (bounded by `limit`, newest first).

    def account_messages(self, account_id: str, limit: int) -> list[sa.RowMapping]:
        """Every message of the account (both channels) with its delivery state; never the
        token."""
        m = outbox.account_messages(account_id)
        query = (
            sa.select(
                m.c.id,
                m.c.offer_id,
                m.c.channel,
                m.c.template,
                m.c.state,
                m.c.attempts,
                m.c.last_error,
                m.c.created_at,
                m.c.sent_at,
            )
            .order_by(m.c.created_at.desc(), m.c.id.desc())
            .limit(limit)
        )
        return list(self.conn.execute(query).mappings())
