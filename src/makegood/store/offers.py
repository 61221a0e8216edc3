"""The offers table's home: issuing offers in bulk, finding one by its claim link, its links.

An offer carries the hash of its launch e-mail's claim link (`offers.token_hash`, a hash index); its
other links (SMS, push, reminders, and links replaced by a resend, revoked) are rows of
`claim_tokens`. A link is looked up by hash in both, so the raw token never reaches a query.
Every function runs in the caller's transaction; none commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.offers import CREDITED, OfferState
from makegood.store import tables as t
from makegood.store.bulk_insert import Row, copy_binary, encode_binary
from makegood.store.repository import Repository

# The columns a launch writes, in COPY order (the in-app message starts `unread`, the launch
# e-mail `pending` on the offer with the raw link it will carry: store/outbox.py).
LAUNCH_COLUMNS = (
    "id",
    "campaign_id",
    "incident_id",
    "account_id",
    "state",
    "amount_minor",
    "currency",
    "plan_id",
    "created_at",
    "expires_at",
    "credited_at",
    "credited_via",
    "token_hash",
    "inapp_state",
    "email_state",
    "email_token",
)
Member = tuple[str, int, str, str]  # account_id, amount_minor, currency, plan_id
_ID, _CAMPAIGN, _CREATED, _EMAIL = (
    LAUNCH_COLUMNS.index(c) for c in ("id", "campaign_id", "created_at", "email_state")
)


@dataclass(frozen=True, slots=True)
class EmailRange:
    """Offers of one campaign written together whose launch e-mails are pending: all lie in
    [low_id, high_id] (a row of `launch_email_ranges`, where the outbox looks for them)."""

    campaign_id: str
    low_id: str
    high_id: str
    created_at: datetime


def email_ranges(rows: Sequence[Row]) -> list[EmailRange]:
    """The ranges of these offers (in `LAUNCH_COLUMNS` order) whose e-mail is pending: one per
    campaign, from its lowest to its highest such id."""
    ids: dict[str, list[str]] = {}
    created: dict[str, datetime] = {}
    for row in rows:
        if row[_EMAIL] is not None:
            ids.setdefault(row[_CAMPAIGN], []).append(str(row[_ID]))
            created.setdefault(row[_CAMPAIGN], row[_CREATED])
    return [EmailRange(c, min(found), max(found), created[c]) for c, found in ids.items()]


# The offer a live link leads to, in SQL (PostgreSQL's one-statement claim uses it as is).
LIVE_LINK_OFFER_SQL = (
    "(SELECT id FROM offers WHERE token_hash = :token_hash "
    "UNION ALL SELECT offer_id FROM claim_tokens "
    "WHERE token_hash = :token_hash AND revoked_at IS NULL LIMIT 1)"
)

# The claimable rule (`domain.offers.claimable`) as SQL text, for PostgreSQL's one-statement
# claim, whose `:now` parameter is the claim's instant.
CLAIMABLE_SQL = "state = 'open' AND expires_at > :now"


def claimable_clause(
    offers_table: sa.Table | sa.Alias, now: datetime | None, *, even_after_expiry: bool = False
) -> sa.ColumnElement[bool]:
    """`domain.offers.claimable` as a WHERE clause on `offers_table`: open, and (unless
    `even_after_expiry`, when `now` may be None) its window still open at `now`."""
    is_open = offers_table.c.state == OfferState.OPEN
    if even_after_expiry:
        return is_open
    if now is None:
        raise ValueError("now is needed unless even_after_expiry")
    return sa.and_(is_open, offers_table.c.expires_at > now)


def open_of_campaign(campaign_id: str) -> sa.Select[Any]:
    """The ids of the campaign's open offers, whether or not their window has closed (what a
    reversal withdraws)."""
    o = t.offers
    return sa.select(o.c.id).where(
        o.c.campaign_id == campaign_id, claimable_clause(o, None, even_after_expiry=True)
    )


# PostgreSQL: the whole claim by link in one statement (one round trip instead of six). The
# offer moves from open to claimed in the first CTE; the credit, its `granted` ledger entry and
# the audit entry are written from that CTE's RETURNING row, so they exist exactly when the
# offer moved. A concurrent claim of the same offer waits on the row lock and then finds it no
# longer open (READ COMMITTED re-checks the WHERE clause), so it returns no row and writes
# nothing. The rows are the ones the step-by-step claim (services/claims.py) writes; the claim
# tests run both strategies against each other on both dialects.
_CLAIM_IN_ONE_STATEMENT = sa.text(
    f"""
WITH won AS (
    UPDATE offers SET state = :state, credited_at = :now, credited_via = :via
    WHERE id = {LIVE_LINK_OFFER_SQL}
      AND {CLAIMABLE_SQL}
    RETURNING id, account_id, campaign_id, amount_minor, currency
), credit AS (
    INSERT INTO credits (id, offer_id, account_id, campaign_id, amount_minor, currency,
                         granted_at, applied_minor)
    SELECT :credit_id, id, account_id, campaign_id, amount_minor, currency, :now, 0 FROM won
), entry AS (
    INSERT INTO ledger_entries (account_id, currency, kind, amount_minor, credit_id,
                                dedupe_key, created_at, actor)
    SELECT account_id, currency, 'granted', amount_minor, :credit_id,
           'granted:' || CAST(:credit_id AS text), :now, :actor
    FROM won WHERE amount_minor <> 0
), audit AS (
    INSERT INTO audit_log (at, actor, action, subject_type, subject_id, detail)
    SELECT :now, :actor, :action, 'offer', id,
           json_build_object('credit_id', CAST(:credit_id AS text), 'via', CAST(:via AS text),
                             'amount_minor', amount_minor, 'currency', currency)
    FROM won
)
SELECT won.id, won.amount_minor, won.currency, a.locale, a.next_bill_date, a.billing_day
FROM won JOIN accounts AS a ON a.account_id = won.account_id
"""  # noqa: S608 (the interpolations are constants of this module)
).columns(
    sa.column("id", sa.String),
    sa.column("amount_minor", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("locale", sa.String),
    sa.column("next_bill_date", sa.Date),
    sa.column("billing_day", sa.Integer),
)


@dataclass(frozen=True, slots=True)
class WonClaim:
    """What a claim made in one statement returns: the offer's credit and its account's
    language and billing dates (for the statement the credit lands on)."""

    offer_id: str
    amount_minor: int
    currency: str
    locale: str
    next_bill_date: date
    billing_day: int


def terms_join(
    base: sa.FromClause,
    offer_id: sa.ColumnElement[Any],
    account_id: sa.ColumnElement[Any],
    *,
    outer: bool,
) -> sa.FromClause:
    """The offer + account + plan + incident + cohort join, written once: `base` with the offer
    `offer_id` (`base` may be the offers table itself), the account `account_id`, the offer's
    plan and incident, and the account's evidence in the offer's campaign snapshot (an outer
    join: an offer may be issued without one). `outer`: the offer, plan and incident are
    outer-joined too (the e-mail worker's batch, where a status e-mail has no offer).

    Its two users: `offer_terms` (readers of an offer with its terms) and the e-mail worker's
    batch read (store/outbox.py `_lock_due_query`, which starts from the messages it locks, in
    the same statement as the lock: one round trip a batch)."""
    o, a, p, i, cm = t.offers, t.accounts, t.plans, t.incidents, t.cohort_members

    def join(left: sa.FromClause, right: sa.FromClause, on: sa.ColumnElement[bool]) -> sa.Join:
        return left.outerjoin(right, on) if outer else left.join(right, on)

    joined = base if base is o else join(base, o, o.c.id == offer_id)
    joined = joined.join(a, a.c.account_id == account_id)
    joined = join(joined, p, p.c.plan_id == o.c.plan_id)
    joined = join(joined, i, i.c.id == o.c.incident_id)
    return joined.outerjoin(
        cm, sa.and_(cm.c.campaign_id == o.c.campaign_id, cm.c.account_id == o.c.account_id)
    )


def offer_terms(*offer_columns: Any) -> sa.Select[Any]:
    """`offer_columns` (by default every offer column) beside what the offer's subscriber is
    told: the account's address, language and billing dates, the plan's name, the incident's
    title and window, and the account's evidence in the campaign's snapshot (null when the offer
    was issued without one), through `terms_join`.

    For readers of an offer with its terms (`Offers.with_terms`: the claim page and the claim,
    the console and API lists, the notice preview; `Outbox.account_inapp`, the in-app
    messages)."""
    o = t.offers
    return sa.select(*(offer_columns or (o,)), *terms_columns()).select_from(
        terms_join(o, o.c.id, o.c.account_id, outer=False)
    )


def terms_columns(email: str = "email") -> tuple[sa.ColumnElement[Any], ...]:
    """What `terms_join` adds to an offer, in this order: the account's address (labelled
    `email`), language and billing dates, the plan's name, the incident's title and window,
    the account's evidence in the campaign's snapshot."""
    a, p, i, cm = t.accounts, t.plans, t.incidents, t.cohort_members
    return (
        a.c.email.label(email),
        a.c.locale,
        a.c.next_bill_date,
        a.c.billing_day,
        p.c.name.label("plan_name"),
        i.c.title.label("incident_title"),
        i.c.starts_at.label("incident_starts_at"),
        i.c.ends_at.label("incident_ends_at"),
        cm.c.failed_attempts,
        cm.c.first_failure_at,
        cm.c.last_failure_at,
        cm.c.why,
        cm.c.why_count,
    )


class Offers(Repository):
    """The offers and claim_tokens tables (`uow.offers`)."""

    def of_campaign(self, campaign_id: str) -> dict[str, sa.Row[Any]]:
        """offer id -> the offer row, for every offer of `campaign_id`."""
        query = sa.select(t.offers).where(t.offers.c.campaign_id == campaign_id)
        return {row.id: row for row in self.conn.execute(query)}

    def revoke_open(self, campaign_id: str) -> int:
        """Revoke the campaign's open offers, whether or not their window has closed (a
        reversal); returns how many."""
        o = t.offers
        query = (
            o.update()
            .where(
                o.c.campaign_id == campaign_id, claimable_clause(o, None, even_after_expiry=True)
            )
            .values(state=OfferState.REVOKED)
        )
        return int(self.conn.execute(query).rowcount)

    # Reading

    def with_terms(
        self,
        *,
        offer_id: str | None = None,
        account_id: str | None = None,
        campaign_id: str | None = None,
        language: str | None = None,
        newest_first: bool = True,
        limit: int | None = None,
    ) -> list[sa.RowMapping]:
        """Offers (by id, of an account, of a campaign; `language`: only to accounts whose
        locale starts with it) with what their subscriber is told (`offer_terms`), newest first
        or by id."""
        o, a = t.offers, t.accounts
        query = offer_terms()
        if offer_id is not None:
            query = query.where(o.c.id == offer_id)
        if account_id is not None:
            query = query.where(o.c.account_id == account_id)
        if campaign_id is not None:
            query = query.where(o.c.campaign_id == campaign_id)
        if language is not None:
            query = query.where(sa.func.lower(a.c.locale).like(f"{language.lower()}%"))
        order = (o.c.created_at.desc(), o.c.id.desc()) if newest_first else (o.c.id,)
        query = query.order_by(*order)
        if limit is not None:
            query = query.limit(limit)
        return list(self.conn.execute(query).mappings())

    def get(self, offer_id: str) -> sa.RowMapping | None:
        return (
            self.conn.execute(sa.select(t.offers).where(t.offers.c.id == offer_id))
            .mappings()
            .first()
        )

    def state_of(self, offer_id: str) -> str | None:
        o = t.offers
        return self.conn.execute(
            sa.select(o.c.state).where(o.c.id == offer_id)
        ).scalar_one_or_none()

    def is_claimable(self, offer_id: str, now: datetime) -> bool:
        """Whether the offer is claimable at `now` (`domain.offers.claimable`)."""
        o = t.offers
        query = sa.select(o.c.id).where(o.c.id == offer_id, claimable_clause(o, now))
        return self.conn.execute(query).first() is not None

    def open_expiring(self, now: datetime, before: datetime) -> list[tuple[str, str]]:
        """(offer id, account id) of every offer still claimable at `now` that expires before
        `before`, in id order."""
        o = t.offers
        query = (
            sa.select(o.c.id, o.c.account_id)
            .where(claimable_clause(o, now), o.c.expires_at <= before)
            .order_by(o.c.id)
        )
        return [(r.id, r.account_id) for r in self.conn.execute(query)]

    def has_offer(self, account_id: str, incident_id: str) -> bool:
        """Whether the account already has an offer for the incident (from any campaign)."""
        o = t.offers
        query = sa.select(o.c.id).where(
            o.c.account_id == account_id, o.c.incident_id == incident_id
        )
        return self.conn.execute(query).first() is not None

    def ids_of_account(self, account_id: str) -> list[str]:
        o = t.offers
        query = sa.select(o.c.id).where(o.c.account_id == account_id)
        return [str(v) for v in self.conn.execute(query).scalars()]

    def credited_at_of_campaign(self, campaign_id: str) -> list[datetime]:
        """When each credited offer of the campaign was credited."""
        o = t.offers
        query = sa.select(o.c.credited_at).where(
            o.c.campaign_id == campaign_id,
            o.c.state.in_(list(CREDITED)),
            o.c.credited_at.is_not(None),
        )
        return list(self.conn.execute(query).scalars())

    def lock_for_change(self, offer_id: str) -> sa.RowMapping | None:
        """The offer, locked, with its campaign's claim days (an agent's action on it)."""
        o, c = t.offers, t.campaigns
        query = (
            sa.select(o, c.c.claim_days)
            .join(c, c.c.id == o.c.campaign_id)
            .where(o.c.id == offer_id)
            .with_for_update()
        )
        return self.conn.execute(query).mappings().first()

    # Links

    def offer_for_link(self, token_hash: str) -> tuple[str, bool] | None:
        """(offer id, revoked?) of the link with this hash, or None for an unknown link."""
        o, ct = t.offers, t.claim_tokens
        query = sa.union_all(
            sa.select(o.c.id, sa.literal(False).label("revoked")).where(
                o.c.token_hash == token_hash
            ),
            sa.select(ct.c.offer_id, ct.c.revoked_at.is_not(None).label("revoked")).where(
                ct.c.token_hash == token_hash
            ),
        )
        row = self.conn.execute(query).first()
        return None if row is None else (str(row[0]), bool(row[1]))

    def add_links(self, links: Sequence[dict[str, Any]]) -> None:
        """Extra claim links of existing offers (keys token_hash, offer_id, created_at)."""
        if links:
            self.conn.execute(t.claim_tokens.insert(), list(links))

    def replace_links(self, offer_id: str, token_hash: str, now: datetime) -> None:
        """Revoke every link of the offer and give it `token_hash` as its one live link.

        The replaced launch link is kept as a revoked row of `claim_tokens`: a revoked link reads
        as unknown, unless its offer was withdrawn (then the page says so), as before.
        """
        o, ct = t.offers, t.claim_tokens
        self.conn.execute(
            ct.update()
            .where(ct.c.offer_id == offer_id, ct.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        old = self.conn.execute(
            sa.select(o.c.token_hash).where(o.c.id == offer_id)
        ).scalar_one_or_none()
        if old is not None:
            self.conn.execute(
                ct.insert().values(
                    token_hash=old, offer_id=offer_id, created_at=now, revoked_at=now
                )
            )
        self.conn.execute(o.update().where(o.c.id == offer_id).values(token_hash=token_hash))

    def live_link_hashes(self) -> set[str]:
        """Every link hash that leads to an offer (tests and the hostile-token checks read it)."""
        o, ct = t.offers, t.claim_tokens
        launch = self.conn.execute(sa.select(o.c.token_hash).where(o.c.token_hash.is_not(None)))
        extra = self.conn.execute(sa.select(ct.c.token_hash).where(ct.c.revoked_at.is_(None)))
        return {str(h) for h in launch.scalars()} | {str(h) for h in extra.scalars()}

    # Writing

    def insert(
        self, rows: Sequence[Row], binary: bytes = b"", emails: Sequence[EmailRange] | None = None
    ) -> None:
        """Write new offers, in `LAUNCH_COLUMNS` order: on PostgreSQL by COPY of `binary` (the
        launch's own encoding, services/launch_rows.py) or else of `rows` encoded by
        `bulk_insert.encode_binary`; on SQLite by executemany of `rows`. UNIQUE (account_id,
        incident_id) refuses a second offer.

        Where their pending launch e-mails are is written with them (`launch_email_ranges`, a
        row per campaign, not an index entry per offer): `emails` (`email_ranges` of the rows)
        when the offers come as `binary` alone, else read off `rows`."""
        if emails is None:
            if binary and not rows:
                raise ValueError("offers given as COPY data alone need their e-mail ranges")
            emails = email_ranges(rows)
        if self.dialect == "postgresql":
            data = binary or encode_binary(t.offers, LAUNCH_COLUMNS, rows)
            copy_binary(self.conn, t.offers, LAUNCH_COLUMNS, data)
        elif rows:
            self.conn.execute(
                t.offers.insert(), [dict(zip(LAUNCH_COLUMNS, r, strict=True)) for r in rows]
            )
        if emails:
            self.conn.execute(t.launch_email_ranges.insert(), [asdict(e) for e in emails])

    # The launch's choice of accounts (services/launch.py).

    def next_unoffered_members(
        self, campaign_id: str, incident_id: str, after: str, limit: int
    ) -> tuple[list[Member], str | None]:
        """The campaign's next eligible members by account id after `after`, skipping accounts
        that already have an offer for this incident (from this launch or another campaign), and
        the last account id looked at (None: no member is left after `after`).

        One read of `limit` members in primary-key order, each eligible one with whether it has
        an offer for the incident. That is a scalar subquery in the select list: one probe of
        the unique (account_id, incident_id) index per member, which PostgreSQL never turns
        into a join or a hashed scan of the incident's offers (an EXISTS there may be), so
        neither the planner's statistics (a fresh table's could make each chunk scan every
        offer) nor the offers of other incidents change what a chunk costs; a range of the
        index would read every incident's offers of the accounts between a sparse chunk's
        first and last member.
        """
        cm, o = t.cohort_members, t.offers
        offer = (
            sa.select(sa.literal(1))
            .where(o.c.account_id == cm.c.account_id, o.c.incident_id == incident_id)
            .scalar_subquery()
        )
        query = (
            sa.select(
                cm.c.account_id,
                cm.c.amount_minor,
                cm.c.currency,
                cm.c.plan_id,
                sa.case((cm.c.excluded_reason.is_(None), offer.is_(None)), else_=sa.false()),
            )
            .where(cm.c.campaign_id == campaign_id, cm.c.account_id > sa.bindparam("after"))
            .order_by(cm.c.account_id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            # The members come in the order of the snapshot's primary key: never sorted. A
            # snapshot just written has no statistics yet (autovacuum analyzes it later), and
            # estimating a few rows, the planner would read every member after `after` and
            # sort them for each chunk (330 ms against 92 ms half-way through 600k members).
            self.conn.exec_driver_sql("SET LOCAL enable_sort = off")
            # 20,000 probes make the estimate cross jit_above_cost: compiling took longer than
            # running (7 ms a chunk).
            self.conn.exec_driver_sql("SET LOCAL jit = off")
        members: list[Member] = []
        last: str | None = None
        while not members:
            result = self.conn.execute(query, {"after": after})
            # The driver's own tuples: text and integers need no conversion, and a Row per
            # member was half of the launch's time reading them.
            rows = result.cursor.fetchall()
            result.close()
            if not rows:
                break
            last = after = rows[-1][0]
            members = [(r[0], r[1], r[2], r[3]) for r in rows if r[4]]
        return members, last

    def count_unoffered_members(self, campaign_id: str, incident_id: str) -> int:
        """How many eligible members of the campaign have no offer for the incident yet."""
        cm, o = t.cohort_members, t.offers
        offered = sa.select(o.c.id).where(
            o.c.incident_id == incident_id, o.c.account_id == cm.c.account_id
        )
        query = sa.select(sa.func.count()).where(
            cm.c.campaign_id == campaign_id, cm.c.excluded_reason.is_(None), ~offered.exists()
        )
        return int(self.conn.execute(query).scalar_one())

    def set_expiry(self, offer_id: str, expires_at: datetime) -> None:
        o = t.offers
        self.conn.execute(o.update().where(o.c.id == offer_id).values(expires_at=expires_at))

    def set_credited_via(self, offer_id: str, via: str) -> None:
        o = t.offers
        self.conn.execute(o.update().where(o.c.id == offer_id).values(credited_via=via))

    def credit(
        self,
        offer_id: str,
        now: datetime,
        state: OfferState,
        via: str,
        *,
        even_after_expiry: bool = False,
    ) -> bool:
        """Move the offer to `state` (claimed or granted) at `now` if it is claimable
        (`domain.offers.claimable`; `even_after_expiry`: its window may have closed); False
        when it was not (someone else won, or it expired or was withdrawn). The caller writes
        the credit when True."""
        o, late = t.offers, even_after_expiry
        result = self.conn.execute(
            o.update()
            .where(o.c.id == offer_id, claimable_clause(o, now, even_after_expiry=late))
            .values(state=state, credited_at=now, credited_via=via)
        )
        return bool(result.rowcount == 1)

    def claim_at_once(
        self, token_hash: str, now: datetime, via: str, credit_id: str, actor: str
    ) -> WonClaim | None:
        """The claim by link in one statement (the offer, its credit `credit_id`, ledger entry
        and audit entry) where the dialect has one (PostgreSQL). None when nothing was credited:
        the link leads to no claimable offer, or this dialect claims step by step; the caller
        then claims step by step, which also says why not."""
        if self.dialect == "postgresql":
            return self._claim_at_once_postgresql(token_hash, now, via, credit_id, actor)
        return None

    def _claim_at_once_postgresql(
        self, token_hash: str, now: datetime, via: str, credit_id: str, actor: str
    ) -> WonClaim | None:
        row = self.conn.execute(
            _CLAIM_IN_ONE_STATEMENT,
            {
                "state": OfferState.CLAIMED.value,
                "now": now.astimezone(UTC),
                "via": via,
                "token_hash": token_hash,
                "credit_id": credit_id,
                "actor": actor,
                "action": f"offer.{OfferState.CLAIMED}",
            },
        ).one_or_none()
        if row is None:
            return None
        return WonClaim(
            row.id, row.amount_minor, row.currency, row.locale, row.next_bill_date, row.billing_day
        )


def claim_at_once_alone(
    engine: sa.Engine, token_hash: str, now: datetime, via: str, credit_id: str, actor: str
) -> WonClaim | None:
    """`Offers.claim_at_once` alone in autocommit: being one statement it is atomic all the
    same, and it saves the BEGIN and COMMIT round trips (at a thousand claims a second, a good
    part of the database's work). None, without connecting, where the dialect claims step by
    step."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return Offers(conn).claim_at_once(token_hash, now, via, credit_id, actor)
