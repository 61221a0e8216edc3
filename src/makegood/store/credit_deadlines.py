"""Payment deadlines (`campaigns.pay_within_days`): was each credit applied in time?

A credit claimed or granted at t must be applied within N days: by t + N days it must be on one
of our statements (the statement's date, 00:00 UTC, is when it was applied: the day the
subscriber sees it) or acknowledged by the billing connector (its `acked_at`). A credit counts
as applied when its whole amount was applied, or when a connector acknowledged it. Credits
settled otherwise (reversed, forfeited, paid out) are not counted; held ones still are owed.

Asked as `uow.reports.deadline_counts(...)` and `uow.reports.unpaid_credits(...)` (the
read-model repository takes these queries from `CreditDeadlines`). Counted in the database,
one query per campaign whatever its size (no row reaches Python),
on SQLite and PostgreSQL alike: instants become day numbers (SQLite `julianday`, PostgreSQL
epoch seconds / 86400, exact there), and the deadline is `granted + N`, inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository
from makegood.store.tables_billing import connector_postings, credit_states

SETTLED_OTHERWISE = ("reversed", "forfeited", "paid_out")


@dataclass(frozen=True, slots=True)
class DeadlineCounts:
    applied_on_time: int
    applied_late: int
    unapplied_overdue: int


@dataclass(frozen=True, slots=True)
class UnpaidCredit:
    credit_id: str
    account_id: str
    amount_minor: int
    currency: str
    granted_at: datetime
    pay_by: datetime
    overdue: bool


def _owed(campaign_id: str) -> Any:
    c, cs = t.credits, credit_states
    settled = sa.select(cs.c.credit_id).where(cs.c.state.in_(SETTLED_OTHERWISE))
    return sa.and_(c.c.campaign_id == campaign_id, c.c.id.not_in(settled))


class CreditDeadlines(Repository):
    """The payment-deadline queries of `uow.reports` (store/reports.py)."""

    def deadline_counts(
        self, campaign_id: str, pay_within_days: int, now: datetime
    ) -> DeadlineCounts:
        """applied_on_time, applied_late and unapplied_overdue of one campaign's credits."""
        c = t.credits
        joined, applied_day = self._applied()
        deadline = self._days(c.c.granted_at) + pay_within_days
        overdue_before = now - timedelta(days=pay_within_days)
        applied = applied_day.is_not(None)
        row = self.conn.execute(
            sa.select(
                sa.func.count().filter(sa.and_(applied, applied_day <= deadline)),
                sa.func.count().filter(sa.and_(applied, applied_day > deadline)),
                sa.func.count().filter(
                    sa.and_(applied_day.is_(None), c.c.granted_at < overdue_before)
                ),
            )
            .select_from(joined)
            .where(_owed(campaign_id))
        ).one()
        return DeadlineCounts(int(row[0]), int(row[1]), int(row[2]))

    def unpaid_credits(
        self, campaign_id: str, pay_within_days: int, now: datetime, limit: int = 100
    ) -> list[UnpaidCredit]:
        """Credits not applied yet, the overdue ones first (oldest deadline first)."""
        c = t.credits
        joined, applied_day = self._applied()
        rows = self.conn.execute(
            sa.select(c.c.id, c.c.account_id, c.c.amount_minor, c.c.currency, c.c.granted_at)
            .select_from(joined)
            .where(_owed(campaign_id), applied_day.is_(None))
            .order_by(c.c.granted_at, c.c.id)
            .limit(limit)
        ).all()
        within = timedelta(days=pay_within_days)
        return [
            UnpaidCredit(
                r.id,
                r.account_id,
                r.amount_minor,
                r.currency,
                r.granted_at,
                r.granted_at + within,
                now > r.granted_at + within,
            )
            for r in rows
        ]

    def _days(self, column: Any, *, is_date: bool = False) -> Any:
        """A day number of an instant (or of a date at 00:00 UTC), comparable across rows: the
        dialect's strategy (SQLite julianday; PostgreSQL epoch seconds / 86400)."""
        if self.dialect == "postgresql":
            value = sa.cast(column, sa.DateTime()) if is_date else column
            return sa.extract("epoch", value) / 86400
        return sa.func.julianday(column)

    def _applied(self) -> Any:
        """Per credit of a campaign: when it was applied (day number), or null if not yet."""
        sl, st, cp = t.statement_lines, t.statements, connector_postings
        on_statement = (
            sa.select(sl.c.credit_id, sa.func.max(st.c.statement_date).label("on_date"))
            .join(st, st.c.id == sl.c.statement_id)
            .where(sl.c.kind == "credit", sl.c.credit_id.is_not(None))
            .group_by(sl.c.credit_id)
            .subquery("on_statement")
        )
        acked = (
            sa.select(cp.c.credit_id, sa.func.min(cp.c.acked_at).label("acked_at"))
            .where(cp.c.purpose == "credit", cp.c.state == "acked")
            .group_by(cp.c.credit_id)
            .subquery("acked")
        )
        c = t.credits
        applied_day = sa.case(
            (acked.c.acked_at.is_not(None), self._days(acked.c.acked_at)),
            (
                c.c.applied_minor >= c.c.amount_minor,
                self._days(on_statement.c.on_date, is_date=True),
            ),
            else_=None,
        )
        joined = c.outerjoin(on_statement, on_statement.c.credit_id == c.c.id).outerjoin(
            acked, acked.c.credit_id == c.c.id
        )
        return joined, applied_day
