"""The outbox's home: queueing messages, and the in-app messages that live on the offers.

`messages` holds what is sent (e-mail, SMS, push). An offer's in-app message is not a row of
its own: the offer carries its state (`offers.inapp_state`: unread, read, dismissed; null when
it has none) and urgency, and `all_messages()` shows it beside the stored ones with the same
columns, so readers see one outbox. Its id is `app_` + the offer id's body (or the id it had
when it was a row, kept by migration 0004). Its template follows from the offer: a credit
granted at launch or by an appeal (automatic mode) says so, every other offer invites a claim.

The launch e-mail of an offer has the id `msg_` + the offer id's body: the primary key is then
the per-offer e-mail key, and a second launch e-mail for the same offer cannot exist. A launch
writes no row for it: until an outbox worker takes it, the offer carries it (`email_state`
'pending', and `email_token`, the raw link it will carry) and `launch_emails()` derives it, a
pending e-mail like any other to every reader. Taking it (`Outbox.take_launch_emails`, in the
worker's batch transaction) writes the row the launch used to write and clears the offer's
columns; a resend or a withdrawal first writes it the same way (`Outbox.write_launch_emails`),
then acts on the row as before. The outbox finds the pending ones through
`launch_email_ranges` (a row per write of offers, store/offers.py `Offers.insert`), by ranges
of the offers' primary key: no index holds an entry per pending offer (migration 0012).
Every function runs in the caller's transaction; none commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from makegood.store import tables as t
from makegood.store.bulk_insert import insert_dicts
from makegood.store.offers import (
    claimable_clause,
    offer_terms,
    open_of_campaign,
    terms_columns,
    terms_join,
)
from makegood.store.repository import Repository
from makegood.store.tables_notify import message_events
from makegood.store.types import UTCDateTime

# The columns of a launch e-mail's row as the outbox writes it when it takes it.
LAUNCH_COLUMNS = (
    "id",
    "offer_id",
    "account_id",
    "channel",
    "template",
    "state",
    "attempts",
    "next_attempt_at",
    "claim_token",
    "created_at",
)
INAPP_VISIBLE = ("unread", "read")
# The states of a stored message still to go out (a worker may take it).
DELIVERABLE = ("pending", "failed")
EMAIL_PENDING = "pending"  # offers.email_state of a launch e-mail not taken yet
EMAIL = "email"
# The ranges of launch e-mails one statement of `Outbox.count_emails_due` counts: their OR
# nests a level per range, and SQLite refuses an expression deeper than 1000.
RANGES_PER_COUNT = 200


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One due e-mail with everything needed to render it (read at send time)."""

    id: str
    template: str
    attempts: int  # every try so far
    unreached: int  # of those, the ones that never reached the server (no attempt used)
    queued_at: datetime  # the message's created_at: its retries' deadline counts from it
    claim_token: str | None
    # The offer's columns are null only for a status e-mail (template credit_status), which
    # has no offer: batch.py renders those from the account instead.
    offer_state: str
    amount_minor: int
    currency: str
    expires_at: datetime
    credited_at: datetime | None
    account_id: str
    status_links: dict[str, str] | None
    # What store/offers.py `terms_columns` reads, in its order.
    recipient: str
    locale: str
    next_bill_date: date
    billing_day: int
    plan_name: str
    incident_title: str
    incident_starts_at: datetime
    incident_ends_at: datetime
    failed_attempts: int | None
    first_failure_at: datetime | None
    last_failure_at: datetime | None
    why: str | None
    why_count: int | None


def due(
    channel: str, now: datetime | sa.BindParameter[datetime], retry_failed_now: bool
) -> sa.ColumnElement[bool]:
    """The stored messages of `channel` a worker running at `now` sends: pending ones whose
    time has come and failed ones whose back-off is over (or every failed one, when
    `retry_failed_now`). The one due clause of the e-mail, SMS and push workers."""
    m = t.messages
    pending_due = sa.and_(m.c.state == "pending", m.c.next_attempt_at <= now)
    failed = m.c.state == "failed"
    failed_due = failed if retry_failed_now else sa.and_(failed, m.c.next_attempt_at <= now)
    return sa.and_(m.c.channel == channel, sa.or_(pending_due, failed_due))


def launch_email_id(offer_id: str) -> str:
    """The id of the launch e-mail of `offer_id` (one per offer, by primary key)."""
    return "msg_" + offer_id.partition("_")[2]


def launch_email_id_of(offer_id: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """`launch_email_id` in SQL (offer ids are `ofr_` + their body)."""
    return sa.literal("msg_") + sa.func.substr(offer_id, 5)


def not_launch_email(messages: sa.FromClause) -> sa.ColumnElement[bool]:
    """The messages `ix_messages_offer_id` holds: all but the launch e-mails."""
    return messages.c.id != launch_email_id_of(messages.c.offer_id)


def of_offer(messages: sa.FromClause, offer_id: Any) -> sa.ColumnElement[bool]:
    """`messages.offer_id == offer_id` for one offer id, written so that indexes find them:
    the launch e-mail by its id, the offer's other messages by `ix_messages_offer_id`, which
    holds only those. (Joined per offer row, PostgreSQL plans it as a scan of every message:
    join the two parts separately, as `account_messages` does.)"""
    m = messages.c
    return sa.and_(
        m.offer_id == offer_id,
        sa.or_(m.id == launch_email_id_of(offer_id), not_launch_email(messages)),
    )


def inapp_id() -> sa.ColumnElement[str]:
    """The in-app message id of each offer row, as SQL."""
    o = t.offers
    derived = sa.literal("app_") + sa.func.substr(o.c.id, 5)
    return sa.func.coalesce(o.c.inapp_message_id, derived)


def inapp_template() -> sa.ColumnElement[str]:
    o = t.offers
    # Granted without a claim: at launch in automatic mode, or by an appeal in that mode.
    granted = o.c.credited_via.in_(("auto", "appeal"))
    return sa.case((granted, "offer_granted"), else_="offer_claim")


def inapp_messages() -> sa.Select[Any]:
    """The in-app messages, one per offer that has one, with the columns of `messages`."""
    o = t.offers
    return sa.select(
        inapp_id().label("id"),
        o.c.id.label("offer_id"),
        o.c.account_id,
        sa.literal("inapp").label("channel"),
        inapp_template().label("template"),
        o.c.inapp_state.label("state"),
        sa.literal(0).label("attempts"),
        o.c.created_at.label("next_attempt_at"),
        sa.null().label("last_error"),
        sa.null().label("claim_token"),
        o.c.created_at,
        sa.null().label("sent_at"),
        o.c.inapp_urgent.label("urgent"),
    ).where(o.c.inapp_state.is_not(None))


def email_pending(offers: sa.FromClause) -> sa.ColumnElement[bool]:
    """The offers whose launch e-mail is not taken yet (a filter: no index holds them; the
    outbox finds them through `launch_email_ranges`)."""
    return offers.c.email_state == sa.literal_column(f"'{EMAIL_PENDING}'")


def merged_ranges(ranges: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """These [low, high] id ranges with overlapping ones merged, in order (two launches at
    once write interleaved ids: an offer in both is one e-mail)."""
    merged: list[tuple[str, str]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def launch_template(offers: sa.FromClause) -> sa.ColumnElement[str]:
    """The template of a launch e-mail still on its offer: a link to claim with, or none (a
    credit granted at launch in automatic mode)."""
    return sa.case((offers.c.email_token.is_(None), "offer_granted"), else_="offer_claim")


def launch_emails() -> sa.Select[Any]:
    """The launch e-mails not taken by the outbox yet, one per offer that has one, with the
    columns of `messages` as the launch used to write them."""
    o = t.offers
    return sa.select(
        launch_email_id_of(o.c.id).label("id"),
        o.c.id.label("offer_id"),
        o.c.account_id,
        sa.literal("email").label("channel"),
        launch_template(o).label("template"),
        sa.literal("pending").label("state"),
        sa.literal(0).label("attempts"),
        o.c.created_at.label("next_attempt_at"),
        sa.null().label("last_error"),
        o.c.email_token.label("claim_token"),
        o.c.created_at,
        sa.null().label("sent_at"),
        sa.false().label("urgent"),
    ).where(email_pending(o))


def _stored() -> sa.Select[Any]:
    m = t.messages
    return sa.select(
        m.c.id,
        m.c.offer_id,
        m.c.account_id,
        m.c.channel,
        m.c.template,
        m.c.state,
        m.c.attempts,
        m.c.next_attempt_at,
        m.c.last_error,
        m.c.claim_token,
        m.c.created_at,
        m.c.sent_at,
        m.c.urgent,
    )


def all_messages() -> sa.Subquery:
    """Stored messages and derived ones (launch e-mails not taken yet, in-app messages), as
    one selectable with `messages`' columns."""
    return sa.union_all(_stored(), launch_emails(), inapp_messages()).subquery("all_messages")


def account_messages(account_id: str) -> sa.Subquery:
    """`all_messages()` of one account, each part found by an index: the messages of no offer
    by `ix_messages_account_id` (which holds only those), an offer's through the offer."""
    m, o = t.messages, t.offers
    return sa.union_all(
        _stored().where(m.c.offer_id.is_(None), m.c.account_id == account_id),
        _stored()  # the launch e-mails of the account's offers, by their ids
        .join(o, m.c.id == launch_email_id_of(o.c.id))
        .where(o.c.account_id == account_id, m.c.offer_id == o.c.id),
        _stored()  # their other messages, by ix_messages_offer_id
        .join(o, m.c.offer_id == o.c.id)
        .where(o.c.account_id == account_id, not_launch_email(m)),
        launch_emails().where(o.c.account_id == account_id),
        inapp_messages().where(o.c.account_id == account_id),
    ).subquery("account_messages")


def new_message(
    message_id: str,
    account_id: str,
    template: str,
    now: datetime,
    *,
    offer_id: str | None = None,
    channel: str = "email",
    claim_token: str | None = None,
) -> dict[str, Any]:
    """A message as every one is queued: pending, no attempt yet, due now. `claim_token` is
    the raw link, kept only until the message is accepted."""
    return {
        "id": message_id,
        "offer_id": offer_id,
        "account_id": account_id,
        "channel": channel,
        "template": template,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "claim_token": claim_token,
        "created_at": now,
    }


class Outbox(Repository):
    """The messages table (the transactional outbox) and derived in-app messages (`uow.outbox`)."""

    def set_inapp_state(self, offer_id: str, state: str) -> None:
        """Set the state (unread, read, dismissed) of the in-app message of an offer."""
        o = t.offers
        self.conn.execute(o.update().where(o.c.id == offer_id).values(inapp_state=state))

    def mark_inapp_urgent(self, message_ids: Sequence[str]) -> int:
        """Flag the in-app messages of the offers of these (stored) messages: another channel
        did not get through. Returns how many were flagged."""
        if not message_ids:
            return 0
        m, o = t.messages, t.offers
        offers = sa.select(m.c.offer_id).where(m.c.id.in_(list(message_ids)))
        result = self.conn.execute(
            o.update()
            .where(
                o.c.id.in_(offers), o.c.inapp_state.is_not(None), o.c.inapp_urgent.is_(sa.false())
            )
            .values(inapp_urgent=True)
        )
        return int(result.rowcount)

    def known_ids(self, message_ids: Sequence[str]) -> set[str]:
        """Which of these ids are stored messages."""
        if not message_ids:
            return set()
        m = t.messages
        return set(
            self.conn.execute(sa.select(m.c.id).where(m.c.id.in_(set(message_ids)))).scalars()
        )

    def recipient_of(self, message_id: str) -> str | None:
        """The current address of the account a stored message was for (to suppress it)."""
        m, a = t.messages, t.accounts
        query = (
            sa.select(a.c.email)
            .select_from(m.join(a, a.c.account_id == m.c.account_id))
            .where(m.c.id == message_id)
        )
        return self.conn.execute(query).scalar_one_or_none()

    def account_inapp(
        self, account_id: str, *, message_id: str | None = None, visible_only: bool = False
    ) -> list[sa.RowMapping]:
        """The account's in-app messages (or the one with `message_id`), newest first, each
        with what the app shows: its offer's amount, state and expiry, the account's locale
        and billing dates, the plan's name and the incident's title. `visible_only`: unread
        or read (not dismissed)."""
        o = t.offers
        query = (
            offer_terms(
                inapp_id().label("id"),
                o.c.id.label("offer_id"),
                inapp_template().label("template"),
                o.c.inapp_state.label("state"),
                o.c.created_at,
                o.c.amount_minor,
                o.c.currency,
                o.c.state.label("offer_state"),
                o.c.expires_at,
                o.c.credited_at,
            )
            .where(o.c.account_id == account_id, o.c.inapp_state.is_not(None))
            .order_by(o.c.created_at.desc(), inapp_id().desc())
        )
        if message_id is not None:
            query = query.where(inapp_id() == message_id)
        if visible_only:
            query = query.where(o.c.inapp_state.in_(INAPP_VISIBLE))
        return list(self.conn.execute(query).mappings())

    def offer_messages(self, offer_id: str) -> list[sa.RowMapping]:
        """Every message of one offer, stored or in-app, oldest first (the columns support's
        history shows: no addresses, no claim tokens)."""
        m = all_messages()
        query = (
            sa.select(
                m.c.id,
                m.c.channel,
                m.c.template,
                m.c.state,
                m.c.attempts,
                m.c.urgent,
                m.c.last_error,
                m.c.created_at,
                m.c.sent_at,
            )
            .where(of_offer(m, offer_id))
            .order_by(m.c.created_at, m.c.id)
        )
        return list(self.conn.execute(query).mappings())

    # A reversed campaign (services/reversal.py): its open offers are withdrawn.

    def write_launch_emails_of_open_offers(self, campaign_id: str) -> None:
        """`write_launch_emails` of the campaign's open offers, so that dropping their unsent
        e-mails finds their launch e-mails too."""
        self.write_launch_emails(open_of_campaign(campaign_id))

    def drop_unsent_emails_of_open_offers(self, campaign_id: str, reason: str) -> None:
        """Unsent e-mails (pending, failed) of the campaign's open offers become dead with
        `reason`, and lose their raw claim tokens: they would carry a link to a withdrawn offer."""
        m = t.messages
        self.conn.execute(
            m.update()
            .where(m.c.offer_id.in_(open_of_campaign(campaign_id)), m.c.channel == "email")
            .where(m.c.state.in_(DELIVERABLE))
            .values(state="dead", last_error=reason, claim_token=None)
        )

    def dismiss_unread_inapp_of_open_offers(self, campaign_id: str) -> None:
        """Dismiss the unread in-app messages of the campaign's open offers."""
        o = t.offers
        self.conn.execute(
            o.update()
            .where(o.c.id.in_(open_of_campaign(campaign_id)), o.c.inapp_state == "unread")
            .values(inapp_state="dismissed")
        )

    def lock_due_on(
        self, channel: str, now: datetime, *, after: str, limit: int, retry_failed_now: bool
    ) -> list[dict[str, Any]]:
        """The next due messages of an SMS or push `channel` in id order after `after`, locked
        for this transaction (SKIP LOCKED on PostgreSQL), with what their text needs: the
        account's locale and the offer's state, amount and expiry."""
        m, o, a = t.messages, t.offers, t.accounts
        ids = (
            sa.select(m.c.id)
            .where(due(channel, now, retry_failed_now), m.c.id > after)
            .order_by(m.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        locked = [r.id for r in self.conn.execute(ids)]
        if not locked:
            return []
        query = (
            sa.select(
                m.c.id,
                m.c.channel,
                m.c.template,
                m.c.attempts,
                m.c.unreached,
                m.c.created_at,
                m.c.claim_token,
                m.c.account_id,
                a.c.locale,
                o.c.state.label("offer_state"),
                o.c.amount_minor,
                o.c.currency,
                o.c.expires_at,
            )
            .select_from(
                m.join(o, o.c.id == m.c.offer_id).join(a, a.c.account_id == m.c.account_id)
            )
            .where(m.c.id.in_(locked))
            .order_by(m.c.id)
        )
        return [dict(r._mapping) for r in self.conn.execute(query)]

    # The e-mail worker (services/dispatch.py, services/outbox_batch.py): the due e-mails,
    # locked with what rendering needs, and what happened to them. Every state change is
    # conditional on the row still being deliverable, so two workers (or a worker and a
    # support action) can never move a message backwards, e.g. from 'sent' to 'failed'.

    def count_emails_due(self, now: datetime, *, retry_failed_now: bool) -> int:
        """How many e-mails a run starting now would try to send: the stored ones due and the
        launch e-mails still on their offers (a statement for the first, and one per
        `RANGES_PER_COUNT` ranges of pending launch e-mails)."""
        o, r = t.offers, t.launch_email_ranges
        stored = sa.select(sa.func.count()).select_from(t.messages)
        total = int(self.conn.execute(stored.where(due(EMAIL, now, retry_failed_now))).scalar_one())
        # Merged, the ranges are disjoint: the counts of groups of them add up. Each pending
        # offer is in some range (ranges of the primary key, read by index).
        ranges = merged_ranges(
            [
                (row.low_id, row.high_id)
                for row in self.conn.execute(sa.select(r.c.low_id, r.c.high_id))
            ]
        )
        for i in range(0, len(ranges), RANGES_PER_COUNT):
            group = ranges[i : i + RANGES_PER_COUNT]
            launch = sa.select(sa.func.count()).where(
                sa.or_(*(o.c.id.between(low, high) for low, high in group)),
                email_pending(o),
                o.c.created_at <= now,
            )
            total += int(self.conn.execute(launch).scalar_one())
        return total

    def lock_due_emails(
        self, now: datetime, *, after_id: str, limit: int, retry_failed_now: bool
    ) -> list[OutgoingEmail]:
        """The next due e-mails in id order after `after_id`, locked for this transaction.

        On PostgreSQL the rows are locked with SKIP LOCKED, so concurrent workers take disjoint
        batches; SQLite serialises writers with its database lock instead.
        """
        query = _lock_due_query(retry_failed_now, by_id=False)
        params = {"now": now, "after_id": after_id, "limit": limit}
        return _outgoing(self.conn.execute(query, params))

    def lock_emails(self, message_ids: list[str]) -> list[OutgoingEmail]:
        """These e-mails (just written by this transaction: launch e-mails it took from their
        offers), locked, in id order."""
        if not message_ids:
            return []
        query = _lock_due_query(False, by_id=True)
        return _outgoing(self.conn.execute(query, {"ids": message_ids}))

    def mark_sent(self, message_ids: list[str], now: datetime) -> int:
        """Record acceptance by the server and erase the raw claim tokens; returns how many."""
        if not message_ids:
            return 0
        return int(self.conn.execute(_sent(message_ids, now)).rowcount)

    def mark_accepted(self, message_ids: list[str], now: datetime) -> int:
        """`mark_sent`, plus an 'accepted' delivery event (source smtp) for each message
        marked; returns how many were marked.

        On PostgreSQL both happen in one statement (an UPDATE ... RETURNING feeding the
        INSERT), so a batch costs one round trip instead of one UPDATE and one INSERT per
        message (tests/integration/test_outbox_marks.py holds both strategies alike).
        """
        if not message_ids:
            return 0
        if self.dialect == "postgresql":
            return self._mark_accepted_postgresql(message_ids, now)
        return self._mark_accepted_sqlite(message_ids, now)

    def _mark_accepted_postgresql(self, message_ids: list[str], now: datetime) -> int:
        rows = self.conn.execute(_mark_accepted_statement(), {"ids": message_ids, "now": now})
        return len(rows.all())

    def _mark_accepted_sqlite(self, message_ids: list[str], now: datetime) -> int:
        # An event for exactly the rows this statement marked, as on PostgreSQL: a message
        # retired or sent by someone else meanwhile is neither marked nor given an event.
        marked = list(
            self.conn.execute(_sent(message_ids, now).returning(t.messages.c.id)).scalars()
        )
        if marked:
            self.conn.execute(
                sa.insert(message_events),
                [
                    {"message_id": mid, "kind": "accepted", "source": "smtp", "at": now}
                    for mid in marked
                ],
            )
        return len(marked)

    def mark_failed(
        self,
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
        m = t.messages
        values: dict[str, object] = {
            "attempts": m.c.attempts + 1,
            "last_error": reason[:2000],
            "state": "dead" if dead else "failed",
            "next_attempt_at": next_attempt_at,
        }
        if unreached:
            values["unreached"] = m.c.unreached + 1
        if dead:
            values["claim_token"] = None
            values["status_links"] = None
        result = self.conn.execute(
            sa.update(m).where(m.c.id == message_id, m.c.state.in_(DELIVERABLE)).values(**values)
        )
        return result.rowcount == 1

    def mark_skipped(self, message_id: str, *, reason: str) -> bool:
        """Retire a message that should no longer go out (its offer expired or was revoked)."""
        m = t.messages
        result = self.conn.execute(
            sa.update(m)
            .where(m.c.id == message_id, m.c.state.in_(DELIVERABLE))
            .values(state="dead", last_error=reason, claim_token=None, status_links=None)
        )
        return result.rowcount == 1

    def queue(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue messages given as dicts of `messages` columns (`new_message`)."""
        insert_dicts(self.conn, t.messages, rows)

    def queue_one(self, row: dict[str, Any]) -> None:
        """Queue one message (a status e-mail, with its `status_links`) in one INSERT."""
        self.conn.execute(t.messages.insert().values(**row))

    def retire_unsent_emails(self, offer_id: str, reason: str) -> int:
        """Retire every e-mail of the offer not sent yet (pending or failed); returns how many.

        Conditional like every other transition: a message a worker has in hand is locked, so
        on PostgreSQL this waits for the worker's commit and then leaves a sent message alone."""
        m = t.messages
        result = self.conn.execute(
            m.update()
            .where(of_offer(m, offer_id), m.c.channel == "email", m.c.state.in_(DELIVERABLE))
            .values(state="dead", last_error=reason, claim_token=None)
        )
        return int(result.rowcount)

    def has_recent(self, account_id: str, template: str, since: datetime) -> bool:
        """Whether the account was queued a message of `template` with no offer (a status
        e-mail) after `since`."""
        m = t.messages
        query = (
            sa.select(sa.func.count())
            .select_from(m)
            .where(
                m.c.offer_id.is_(None),  # ix_messages_account_id holds only those
                m.c.account_id == account_id,
                m.c.template == template,
                m.c.created_at > since,
            )
        )
        return bool(self.conn.execute(query).scalar_one())

    def offers_to_remind(
        self, now: datetime, expiring_before: datetime, template: str
    ) -> list[tuple[str, str]]:
        """(offer id, account id) of every open offer of a claim campaign that expires before
        `expiring_before` and has no message of `template` yet, in id order, locked for this
        transaction (SKIP LOCKED on PostgreSQL: concurrent runs take different offers)."""
        o, m, c = t.offers, t.messages, t.campaigns
        # A reminder is never a launch e-mail: `ix_messages_offer_id` finds it.
        reminded = sa.exists().where(
            m.c.offer_id == o.c.id, not_launch_email(m), m.c.template == template
        )
        query = (
            sa.select(o.c.id, o.c.account_id)
            .select_from(o.join(c, c.c.id == o.c.campaign_id))
            .where(
                claimable_clause(o, now),
                c.c.mode == "claim",
                o.c.expires_at <= expiring_before,
                ~reminded,
            )
            .order_by(o.c.id)
            .with_for_update(of=o, skip_locked=True)
        )
        return [(r.id, r.account_id) for r in self.conn.execute(query)]

    def plan_as_it_grows(self) -> None:
        """Plan the rest of this transaction's statements for `messages` as it is now.

        Taking launch e-mails fills `messages` while a worker runs. PostgreSQL caches generic
        plans (psycopg's prepared statements, the foreign-key check of each delivery event),
        and ones made while the table was empty, or analysed empty, scan it as if it still
        were, ever slower as it fills, until the next ANALYZE invalidates them. Custom plans
        see its current size; a batch of e-mails pays a few planning microseconds instead.
        """
        if self.dialect == "postgresql":
            self.conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")

    def take_launch_emails(self, now: datetime, limit: int) -> list[str]:
        """Write the rows of up to `limit` launch e-mails due at `now` that are still on their
        offers (as the launch used to write them) and clear the offers' columns; returns the
        e-mails' ids, in id order. They are taken from the oldest range of
        `launch_email_ranges` on, in id order within a range (with any other pending offer in
        it: one of another launch written meanwhile is an e-mail all the same).

        On PostgreSQL offers another transaction holds are skipped, so concurrent workers (and
        a worker's batches in flight) take disjoint ones; the primary key of `messages` would
        refuse a second row for one e-mail anyway. A range only ever shrinks past what no
        transaction may still give back: see `_take_range_statement`."""
        taken: list[str] = []
        postgresql = self.dialect == "postgresql"
        if postgresql:
            # A range's offers are read in id order, by the primary key, up to `limit`. With
            # most of the table's e-mails taken, the planner expects few pending offers in a
            # range and would read them all (a bitmap scan) to sort them: the whole rest of
            # a chunk each batch. They are dense in it; its own order is what is wanted.
            self.conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        for range_id, low, high in self._email_ranges():
            if len(taken) >= limit:
                break
            if postgresql:
                taken += self._take_range_postgresql(range_id, low, high, now, limit - len(taken))
            else:
                taken += self._take_range_sqlite(range_id, low, high, now, limit - len(taken))
        if postgresql:
            self.conn.exec_driver_sql("SET LOCAL enable_bitmapscan TO DEFAULT")
        return sorted(taken)

    def _email_ranges(self, page: int = 16) -> Iterator[tuple[int, str, str]]:
        """(id, low, high) of every range of pending launch e-mails, oldest first, read a
        page at a time (a batch usually needs the first one only)."""
        r = t.launch_email_ranges
        after = 0
        while True:
            rows = self.conn.execute(
                sa.select(r.c.id, r.c.low_id, r.c.high_id)
                .where(r.c.id > after)
                .order_by(r.c.id)
                .limit(page)
            ).all()
            for row in rows:
                yield int(row.id), str(row.low_id), str(row.high_id)
            if len(rows) < page:
                return
            after = int(rows[-1].id)

    def write_launch_emails(self, offer_ids: Sequence[str] | sa.Select[Any]) -> None:
        """Write the rows of these offers' launch e-mails still on their offers, so that what
        acts on an offer's e-mails (a resend, a withdrawal) finds them in `messages`. On
        PostgreSQL it waits for a worker taking one of them and then leaves that one alone."""
        among = t.offers.c.id.in_(offer_ids)
        if self.dialect == "postgresql":
            self._write_postgresql(among)
        else:
            self._write_sqlite(among)

    # The strategies (tests/integration/test_outbox_launch_emails.py holds them alike).

    def _take_range_postgresql(
        self, range_id: int, low: str, high: str, now: datetime, limit: int
    ) -> list[str]:
        params = {"range": range_id, "low": low, "high": high, "now": now, "limit": limit}
        return list(self.conn.execute(_take_range_statement(), params).scalars())

    def _take_range_sqlite(
        self, range_id: int, low: str, high: str, now: datetime, limit: int
    ) -> list[str]:
        # SQLite has one writer at a time (BEGIN IMMEDIATE): nothing moves between these.
        o, r = t.offers, t.launch_email_ranges
        in_range = sa.and_(o.c.id >= low, o.c.id <= high, email_pending(o))
        chosen = list(
            self.conn.execute(
                sa.select(o.c.id)
                .where(in_range, o.c.created_at <= now)
                .order_by(o.c.id)
                .limit(limit)
            ).scalars()
        )
        if chosen:
            self._write_sqlite(o.c.id.in_(chosen))
        rest = self.conn.execute(
            sa.select(o.c.id).where(in_range).order_by(o.c.id).limit(1)
        ).scalar_one_or_none()
        if rest is None:
            self.conn.execute(r.delete().where(r.c.id == range_id))
        elif rest > low:
            self.conn.execute(r.update().where(r.c.id == range_id).values(low_id=rest))
        return [launch_email_id(offer_id) for offer_id in chosen]

    def _write_postgresql(self, among: sa.ColumnElement[bool]) -> None:
        o = t.offers
        taken = (
            sa.select(o.c.id, o.c.account_id, o.c.email_token, o.c.created_at)
            .where(email_pending(o), among)
            .with_for_update()
            .cte("taken")
        )
        self.conn.execute(_write_taken(taken))

    def _write_sqlite(self, among: sa.ColumnElement[bool]) -> None:
        # SQLite has one writer at a time (BEGIN IMMEDIATE): nothing moves between the two.
        o = t.offers
        pending = sa.and_(email_pending(o), among)
        self.conn.execute(
            sa.insert(t.messages).from_select(LAUNCH_COLUMNS, _launch_rows(o, pending))
        )
        self.conn.execute(o.update().where(pending).values(email_state=None, email_token=None))


def _launch_rows(taken: sa.FromClause, *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The `messages` rows of these launch e-mails, in LAUNCH_COLUMNS order."""
    c = taken.c
    return sa.select(
        launch_email_id_of(c.id),
        c.id,
        c.account_id,
        sa.literal("email"),
        launch_template(taken),
        sa.literal("pending"),
        sa.literal(0),
        c.created_at,
        c.email_token,
        c.created_at,
    ).where(*where)


def _write_taken(taken: sa.CTE) -> sa.Insert:
    """One PostgreSQL statement: the offers in `taken` (locked) lose their launch e-mail's
    columns and its row is written; returns the e-mails' ids."""
    o = t.offers
    cleared = (
        o.update()
        .where(o.c.id == taken.c.id)
        .values(email_state=None, email_token=None)
        .cte("cleared")
    )
    return (
        sa.insert(t.messages)
        .from_select(LAUNCH_COLUMNS, _launch_rows(taken))
        .add_cte(cleared)
        .returning(t.messages.c.id)
    )


@lru_cache(maxsize=1)
def _take_range_statement() -> sa.Insert:
    """One range's part of `take_launch_emails` on PostgreSQL, in one statement, built once
    (parameters: range, low, high, now, limit): the first `limit` pending offers due in
    [low, high] that no other transaction holds (SKIP LOCKED) are taken as `_write_taken`
    does, and the range moves its low to the lowest pending offer left in it, or goes once
    none is.

    What is left is read in this statement's snapshot, where offers other transactions are
    taking still look pending: should one of those roll back, the range still covers its
    offers. The range row is changed only if no other transaction holds it (SKIP LOCKED
    again): a worker never waits for another's batch, which a pipelined worker's own
    previous batch is; the range is then moved by a later take. A range of which every
    pending offer is in flight is left alone, and the next range is taken from."""
    o, r = t.offers, t.launch_email_ranges
    in_range = sa.and_(
        o.c.id >= sa.bindparam("low", type_=o.c.id.type),
        o.c.id <= sa.bindparam("high", type_=o.c.id.type),
        email_pending(o),
    )
    taken = (
        sa.select(o.c.id, o.c.account_id, o.c.email_token, o.c.created_at)
        .where(in_range, o.c.created_at <= sa.bindparam("now", type_=UTCDateTime))
        .order_by(o.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .with_for_update(skip_locked=True)
        .cte("taken")
    )
    # Offers created after `now` are pending too, and stay in the range. One row: the
    # lowest pending id left, null when none is.
    rest = sa.select(
        sa.select(o.c.id)
        .where(in_range, o.c.id.not_in(sa.select(taken.c.id)))
        .order_by(o.c.id)
        .limit(1)
        .scalar_subquery()
        .label("low_id")
    ).cte("rest")
    rest = rest.prefix_with("MATERIALIZED", dialect="postgresql")  # read once, not per use
    held = (
        sa.select(r.c.id, rest.c.low_id)
        .where(
            r.c.id == sa.bindparam("range", type_=sa.Integer),
            sa.or_(rest.c.low_id.is_(None), r.c.low_id < rest.c.low_id),
        )
        .with_for_update(of=r, skip_locked=True)
        .cte("held")
    )
    moved = (
        r.update()
        .where(r.c.id == held.c.id, held.c.low_id.is_not(None))
        .values(low_id=held.c.low_id)
        .cte("moved")
    )
    dropped = r.delete().where(r.c.id == held.c.id, held.c.low_id.is_(None)).cte("dropped")
    return _write_taken(taken).add_cte(moved).add_cte(dropped)


def _outgoing(result: sa.CursorResult[tuple[object, ...]]) -> list[OutgoingEmail]:
    if tuple(result.keys()) != _OUTGOING_FIELDS:  # the positional build below relies on it
        raise AssertionError(f"outbox query columns {tuple(result.keys())} != OutgoingEmail")
    return [OutgoingEmail(*row) for row in result.all()]  # type: ignore[arg-type, call-arg]


@lru_cache(maxsize=3)
def _lock_due_query(retry_failed_now: bool, *, by_id: bool) -> sa.Select[tuple[object, ...]]:
    """The statement of `lock_due_emails` (`by_id`: `lock_emails`), built once: a worker runs
    it for every batch, and building it cost more than running it (parameters: now, after_id,
    limit; `by_id`: ids)."""
    m, o = t.messages, t.offers
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
                due(EMAIL, now, retry_failed_now),
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
            o.c.state.label("offer_state"),
            o.c.amount_minor,
            o.c.currency,
            o.c.expires_at,
            o.c.credited_at,
            locked.c.account_id,
            locked.c.status_links,
            *terms_columns(email="recipient"),
        )
        .select_from(
            # Outer joins: a status e-mail has no offer (each join is still by primary key).
            terms_join(locked, locked.c.offer_id, locked.c.account_id, outer=True)
        )
        .order_by(locked.c.id)
    )
    return query


_OUTGOING_FIELDS = tuple(f.name for f in fields(OutgoingEmail))


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
