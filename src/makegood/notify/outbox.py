"""Outbox queries for e-mail delivery: which messages are due, and recording what happened.

Every state change is conditional on the row still being deliverable, so two workers (or a
worker and a support action) can never move a message backwards, e.g. from 'sent' to 'failed'.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from makegood.store import outbox as outbox_store
from makegood.store import tables as t
from makegood.store.tables_notify import message_events
from makegood.store.types import UTCDateTime

EMAIL = "email"
DELIVERABLE = outbox_store.DELIVERABLE


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One due e-mail with everything needed to render it (read at send time)."""

    id: str
    template: str
    attempts: int  # every try so far
    unreached: int  # of those, the ones that never reached the server (no attempt used)
    queued_at: datetime  # the message's created_at: its retries' deadline counts from it
    claim_token: str | None
    recipient: str
    locale: str
    next_bill_date: date
    billing_day: int
    # The offer's columns are null only for a status e-mail (template credit_status), which
    # has no offer: batch.py renders those from the account instead.
    offer_state: str
    amount_minor: int
    currency: str
    expires_at: datetime
    credited_at: datetime | None
    plan_name: str
    incident_title: str
    incident_starts_at: datetime
    incident_ends_at: datetime
    failed_attempts: int | None
    first_failure_at: datetime | None
    last_failure_at: datetime | None
    account_id: str
    status_links: dict[str, str] | None
    why: str | None
    why_count: int | None


def _due(
    now: datetime | sa.BindParameter[datetime], retry_failed_now: bool
) -> sa.ColumnElement[bool]:
    pending_due = sa.and_(t.messages.c.state == "pending", t.messages.c.next_attempt_at <= now)
    failed = t.messages.c.state == "failed"
    failed_due = (
        failed if retry_failed_now else sa.and_(failed, t.messages.c.next_attempt_at <= now)
    )
    return sa.and_(t.messages.c.channel == EMAIL, sa.or_(pending_due, failed_due))


def count_due(conn: sa.Connection, now: datetime, *, retry_failed_now: bool) -> int:
    """How many e-mails a run starting now would try to send."""
    query = sa.select(sa.func.count()).select_from(t.messages).where(_due(now, retry_failed_now))
    return int(conn.execute(query).scalar_one())


def lock_due_batch(
    conn: sa.Connection, now: datetime, *, after_id: str, limit: int, retry_failed_now: bool
) -> list[OutgoingEmail]:
    """The next due e-mails in id order after `after_id`, locked for this transaction.

    On PostgreSQL the rows are locked with SKIP LOCKED, so concurrent workers take disjoint
    batches; SQLite serialises writers with its database lock instead.
    """
    query = _lock_due_query(retry_failed_now, by_id=False)
    return _outgoing(conn.execute(query, {"now": now, "after_id": after_id, "limit": limit}))


def lock_batch(conn: sa.Connection, message_ids: list[str]) -> list[OutgoingEmail]:
    """These e-mails (just written by this transaction: launch e-mails it took from their
    offers), locked, in id order."""
    if not message_ids:
        return []
    query = _lock_due_query(False, by_id=True)
    return _outgoing(conn.execute(query, {"ids": message_ids}))


def _outgoing(result: sa.CursorResult[tuple[object, ...]]) -> list[OutgoingEmail]:
    if tuple(result.keys()) != _OUTGOING_FIELDS:  # the positional build below relies on it
        raise AssertionError(f"outbox query columns {tuple(result.keys())} != OutgoingEmail")
    return [OutgoingEmail(*row) for row in result.all()]  # type: ignore[arg-type, call-arg]


@lru_cache(maxsize=3)
def _lock_due_query(retry_failed_now: bool, *, by_id: bool) -> sa.Select[tuple[object, ...]]:
    """The statement of `lock_due_batch`, built once: a worker runs it for every batch, and
    building it cost more than running it (parameters: now, after_id, limit; `by_id`: ids)."""
    m, o, a, p, i, c = (
        t.messages,
        t.offers,
        t.accounts,
        t.plans,
        t.incidents,
        t.cohort_members,
    )
    now = sa.bindparam("now", type_=UTCDateTime)
    # The CTE locks the rows and carries the message's own columns, so the messages table is
    # read once, by its primary key, and never joined back (a join back let the planner
    # hash-join the whole table for every batch).
    locked = (
        sa.select(
            m.c.id,
            m.c.template,
            m.c.attempts,
            m.c.unreached,
            m.c.created_at,
            m.c.claim_token,
            m.c.offer_id,
            m.c.account_id,
            m.c.status_links,
        )
        .where(
            m.c.id.in_(sa.bindparam("ids", expanding=True))
            if by_id
            else sa.and_(
                _due(now, retry_failed_now),
                m.c.id > sa.bindparam("after_id", type_=m.c.id.type),
            )
        )
        .order_by(m.c.id)
        .limit(None if by_id else sa.bindparam("limit", type_=sa.Integer))
        .with_for_update(skip_locked=True)
        .cte("locked")
    )
    # One round trip: the rows are locked in the CTE, then read with what rendering needs.
    query = (
        sa.select(
            locked.c.id,
            locked.c.template,
            locked.c.attempts,
            locked.c.unreached,
            locked.c.created_at.label("queued_at"),
            locked.c.claim_token,
            a.c.email.label("recipient"),
            a.c.locale,
            a.c.next_bill_date,
            a.c.billing_day,
            o.c.state.label("offer_state"),
            o.c.amount_minor,
            o.c.currency,
            o.c.expires_at,
            o.c.credited_at,
            p.c.name.label("plan_name"),
            i.c.title.label("incident_title"),
            i.c.starts_at.label("incident_starts_at"),
            i.c.ends_at.label("incident_ends_at"),
            c.c.failed_attempts,
            c.c.first_failure_at,
            c.c.last_failure_at,
            locked.c.account_id,
            locked.c.status_links,
            c.c.why,
            c.c.why_count,
        )
        .select_from(
            # Outer joins: a status e-mail has no offer (each join is still by primary key).
            locked.outerjoin(o, o.c.id == locked.c.offer_id)
            .join(a, a.c.account_id == locked.c.account_id)
            .outerjoin(p, p.c.plan_id == o.c.plan_id)
            .outerjoin(i, i.c.id == o.c.incident_id)
            .outerjoin(
                c, sa.and_(c.c.campaign_id == o.c.campaign_id, c.c.account_id == o.c.account_id)
            )
        )
        .order_by(locked.c.id)
    )
    return query


_OUTGOING_FIELDS = tuple(f.name for f in fields(OutgoingEmail))


def mark_sent(conn: sa.Connection, message_ids: list[str], now: datetime) -> int:
    """Record acceptance by the mail server and erase the raw claim tokens; returns how many."""
    if not message_ids:
        return 0
    return int(conn.execute(_sent(message_ids, now)).rowcount)


def _sent(message_ids: list[str], now: datetime) -> sa.Update:
    return (
        sa.update(t.messages)
        .where(t.messages.c.id.in_(message_ids), t.messages.c.state.in_(DELIVERABLE))
        .values(
            state="sent",
            sent_at=now,
            claim_token=None,
            status_links=None,
            attempts=t.messages.c.attempts + 1,
            last_error=None,
        )
    )


def mark_accepted(conn: sa.Connection, message_ids: list[str], now: datetime) -> int:
    """`mark_sent`, plus an 'accepted' delivery event (source smtp) for each message marked;
    returns how many were marked.

    On PostgreSQL both happen in one statement (an UPDATE ... RETURNING feeding the INSERT),
    so a batch costs one round trip instead of one UPDATE and one INSERT per message.
    """
    if not message_ids:
        return 0
    if conn.dialect.name != "postgresql":
        # An event for exactly the rows this statement marked, as on PostgreSQL: a message
        # retired or sent by someone else meanwhile is neither marked nor given an event.
        marked = list(conn.execute(_sent(message_ids, now).returning(t.messages.c.id)).scalars())
        if marked:
            conn.execute(
                sa.insert(message_events),
                [
                    {"message_id": mid, "kind": "accepted", "source": "smtp", "at": now}
                    for mid in marked
                ],
            )
        return len(marked)
    rows = conn.execute(_mark_accepted_statement(), {"ids": message_ids, "now": now}).all()
    return len(rows)


@lru_cache(maxsize=1)
def _mark_accepted_statement() -> sa.Insert:
    """The PostgreSQL statement of `mark_accepted`, built once (parameters: ids, now)."""
    m = t.messages
    sent = (
        sa.update(m)
        .where(m.c.id == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(m.c.id.type))))
        .where(m.c.state.in_(DELIVERABLE))
        .values(
            state="sent",
            sent_at=sa.bindparam("now", type_=UTCDateTime),
            claim_token=None,
            status_links=None,
            attempts=m.c.attempts + 1,
            last_error=None,
        )
        .returning(m.c.id)
        .cte("sent")
    )
    events = sa.select(
        sent.c.id,
        sa.literal("accepted"),
        sa.literal("smtp"),
        sa.bindparam("now", type_=UTCDateTime),
    )
    return (
        sa.insert(message_events)
        .from_select(["message_id", "kind", "source", "at"], events)
        .add_cte(sent)
        .returning(message_events.c.id)  # psycopg reports no rowcount for this statement
    )


def mark_failed(
    conn: sa.Connection,
    message_id: str,
    *,
    reason: str,
    dead: bool,
    next_attempt_at: datetime,
    unreached: bool = False,
) -> bool:
    """Record a failed try: 'failed' to be retried later, or 'dead' for good; `unreached`
    when it never reached the server (counted apart: it used no attempt).

    A dead message loses its raw claim token too: it will not be sent, and a support resend
    issues a fresh link.
    """
    values: dict[str, object] = {
        "attempts": t.messages.c.attempts + 1,
        "last_error": reason[:2000],
        "state": "dead" if dead else "failed",
        "next_attempt_at": next_attempt_at,
    }
    if unreached:
        values["unreached"] = t.messages.c.unreached + 1
    if dead:
        values["claim_token"] = None
        values["status_links"] = None
    result = conn.execute(
        sa.update(t.messages)
        .where(t.messages.c.id == message_id, t.messages.c.state.in_(DELIVERABLE))
        .values(**values)
    )
    return result.rowcount == 1


def mark_skipped(conn: sa.Connection, message_id: str, *, reason: str) -> bool:
    """Retire a message that should no longer go out (its offer expired or was revoked)."""
    result = conn.execute(
        sa.update(t.messages)
        .where(t.messages.c.id == message_id, t.messages.c.state.in_(DELIVERABLE))
        .values(state="dead", last_error=reason, claim_token=None, status_links=None)
    )
    return result.rowcount == 1
