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

    def offer_to_preview(self, campaign_id: str, language: str) -> sa.RowMapping | None:
        """One offer of the campaign with everything its e-mail shows (account, plan,
        incident, the member's evidence): the first to an account whose locale is of
        `language`, else its first; None when it has no offers."""
        o, a, p, i, c = t.offers, t.accounts, t.plans, t.incidents, t.cohort_members
        query = (
            sa.select(
                o.c.id,
                a.c.locale,
                a.c.next_bill_date,
                a.c.billing_day,
                o.c.credited_at,
                o.c.amount_minor,
                o.c.currency,
                o.c.expires_at,
                p.c.name.label("plan_name"),
                i.c.title,
                i.c.starts_at,
                i.c.ends_at,
                c.c.failed_attempts,
                c.c.first_failure_at,
                c.c.last_failure_at,
                c.c.why,
                c.c.why_count,
            )
            .select_from(
                o.join(a, a.c.account_id == o.c.account_id)
                .join(p, p.c.plan_id == o.c.plan_id)
                .join(i, i.c.id == o.c.incident_id)
                .outerjoin(
                    c,
                    sa.and_(c.c.campaign_id == o.c.campaign_id, c.c.account_id == o.c.account_id),
                )
            )
            .where(o.c.campaign_id == campaign_id)
            .order_by(o.c.id)
            .limit(1)
        )
        same_language = sa.func.lower(a.c.locale).like(f"{language}%")
        found = self.conn.execute(query.where(same_language)).mappings().first()
        return found or self.conn.execute(query).mappings().first()
