"""Claiming a credit through an account-specific link: look at the offer, then apply it once.

The raw token never reaches a query: every lookup goes by its SHA-256 hash (`offers.token_hash`
for the launch e-mail's link, `claim_tokens` for the others: store/offers.py), so neither timing
nor logs of the database reveal a usable link.

Exactly once is a database invariant, not a check-then-act: the offer moves from `open` to
`claimed` with one conditional UPDATE, and only the transaction whose UPDATE changed the row
writes the credit (whose `offer_id` is UNIQUE besides). Concurrent claims on PostgreSQL wait on
the row lock and then see the row no longer `open`; on SQLite the engine's BEGIN IMMEDIATE
serialises writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from makegood.domain import errors
from makegood.domain.calendar import statement_date_for
from makegood.domain.ids import new_id
from makegood.domain.offers import CREDITED, OfferState, check_claimable
from makegood.domain.tokens import hash_token
from makegood.store import offers
from makegood.store import tables as t
from makegood.store.uow import UnitOfWork

# Real tokens are 43 characters; anything far longer is not a link we issued.
MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why this account is in the cohort: its own failed playback attempts in the outage."""

    failed_attempts: int
    first_failure_at: datetime
    last_failure_at: datetime
    # What the amount is for (domain.policy.Why and its count); None before reasons were kept.
    why: str | None = None
    why_count: int | None = None


@dataclass(frozen=True, slots=True)
class OfferView:
    """What a subscriber may see behind their link; no full e-mail address, no token."""

    offer_id: str
    state: str
    masked_email: str
    locale: str
    amount_minor: int
    currency: str
    plan_name: str
    incident_title: str
    incident_starts_at: datetime
    incident_ends_at: datetime
    evidence: Evidence | None
    expires_at: datetime
    credited_at: datetime | None
    # The statement the credit lands on: when it was credited, or if it were credited now.
    statement_date: date

    @property
    def credited(self) -> bool:
        return self.state in CREDITED


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The credit just written by a successful claim."""

    offer_id: str
    credit_id: str
    amount_minor: int
    currency: str
    granted_at: datetime
    statement_date: date
    locale: str


def mask_email(email: str) -> str:
    """`jane@example.com` -> `j***@example.com`: enough to recognise, not enough to harvest."""
    local, at, domain = email.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def _token_hash(token: str) -> str:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise errors.OfferNotFound("this link is not valid")
    return hash_token(token)


def _offer_id_for(uow: UnitOfWork, token: str) -> str:
    """The offer behind a live link; unknown and revoked links are the same to the outside."""
    found = offers.offer_for_link(uow.conn, _token_hash(token))
    if found is None:
        raise errors.OfferNotFound("this link is not valid")
    offer_id, revoked = found
    if revoked:
        # A replaced link looks unknown; a link to a withdrawn offer says it was withdrawn.
        state = uow.conn.execute(
            sa.select(t.offers.c.state).where(t.offers.c.id == offer_id)
        ).scalar_one_or_none()
        if state != OfferState.REVOKED:
            raise errors.OfferNotFound("this link is not valid")
    return offer_id


def _offer_row(uow: UnitOfWork, offer_id: str) -> sa.RowMapping:
    o, a, p, i = t.offers, t.accounts, t.plans, t.incidents
    cm = t.cohort_members
    query = (
        sa.select(
            o.c.id,
            o.c.state,
            o.c.amount_minor,
            o.c.currency,
            o.c.campaign_id,
            o.c.account_id,
            o.c.expires_at,
            o.c.credited_at,
            a.c.email,
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
        .select_from(
            o.join(a, a.c.account_id == o.c.account_id)
            .join(p, p.c.plan_id == o.c.plan_id)
            .join(i, i.c.id == o.c.incident_id)
            .outerjoin(
                cm, sa.and_(cm.c.campaign_id == o.c.campaign_id, cm.c.account_id == o.c.account_id)
            )
        )
        .where(o.c.id == offer_id)
    )
    row = uow.conn.execute(query).one_or_none()
    if row is None:
        raise errors.OfferNotFound("this link is not valid")
    return row._mapping


def view_offer(uow: UnitOfWork, token: str, now: datetime) -> OfferView:
    """Read-only: the offer behind `token` in any state; OfferNotFound for unknown/revoked links."""
    r = _offer_row(uow, _offer_id_for(uow, token))
    credited_at = r["credited_at"]
    evidence = None
    if r["failed_attempts"] is not None:
        evidence = Evidence(
            r["failed_attempts"],
            r["first_failure_at"],
            r["last_failure_at"],
            r["why"],
            r["why_count"],
        )
    return OfferView(
        offer_id=r["id"],
        state=r["state"],
        masked_email=mask_email(r["email"]),
        locale=r["locale"],
        amount_minor=r["amount_minor"],
        currency=r["currency"],
        plan_name=r["plan_name"],
        incident_title=r["incident_title"],
        incident_starts_at=r["incident_starts_at"],
        incident_ends_at=r["incident_ends_at"],
        evidence=evidence,
        expires_at=r["expires_at"],
        credited_at=credited_at,
        statement_date=statement_date_for(
            credited_at or now, r["next_bill_date"], r["billing_day"]
        ),
    )


def _credit_offer(
    uow: UnitOfWork,
    offer_id: str,
    now: datetime,
    new_state: OfferState,
    via: str,
    actor: str,
    *,
    even_after_expiry: bool = False,
) -> ClaimResult:
    """Move a claimable offer (`domain.offers.claimable`) to `new_state` and write its credit,
    or raise why not."""
    o, late = t.offers, even_after_expiry
    changed = uow.conn.execute(
        o.update()
        .where(o.c.id == offer_id, offers.claimable_clause(o, now, even_after_expiry=late))
        .values(state=new_state, credited_at=now, credited_via=via)
    ).rowcount
    row = _offer_row(uow, offer_id)
    if changed != 1:
        # Someone else won, or the offer is expired or withdrawn: say which.
        check_claimable(row["state"], row["expires_at"], now, even_after_expiry=late)
        raise errors.OfferAlreadyClaimed("this credit has already been applied")
    credit_id = new_id("crd")
    credit = {
        "id": credit_id,
        "offer_id": offer_id,
        "account_id": row["account_id"],
        "campaign_id": row["campaign_id"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "granted_at": now,
        "applied_minor": 0,
    }
    uow.conn.execute(t.credits.insert().values(**credit))
    uow.ledger.add_grants([credit], now, actor)  # the ledger moves with the credit
    uow.audit.record(
        at=now,
        actor=actor,
        action=f"offer.{new_state}",
        subject_type="offer",
        subject_id=offer_id,
        detail={
            "credit_id": credit_id,
            "via": via,
            "amount_minor": row["amount_minor"],
            "currency": row["currency"],
        },
    )
    return ClaimResult(
        offer_id=offer_id,
        credit_id=credit_id,
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        granted_at=now,
        statement_date=statement_date_for(now, row["next_bill_date"], row["billing_day"]),
        locale=row["locale"],
    )


# PostgreSQL: the whole claim in one statement (one round trip instead of six). The offer moves
# from open to claimed in the first CTE; the credit, its `granted` ledger entry and the audit
# entry are written from that CTE's RETURNING row, so they exist exactly when the offer moved.
# A concurrent claim of the same offer waits on the row lock and then finds it no longer open
# (READ COMMITTED re-checks the WHERE clause), so it returns no row and writes nothing. The rows
# are the ones `_credit_offer` writes; the claim tests run both paths against each other.
_CLAIM_IN_ONE_STATEMENT = sa.text(
    f"""
WITH won AS (
    UPDATE offers SET state = :state, credited_at = :now, credited_via = :via
    WHERE id = {offers.LIVE_LINK_OFFER_SQL}
      AND {offers.CLAIMABLE_SQL}
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
"""  # noqa: S608 (the interpolations are constants of store/offers.py)
).columns(
    sa.column("id", sa.String),
    sa.column("amount_minor", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("locale", sa.String),
    sa.column("next_bill_date", sa.Date),
    sa.column("billing_day", sa.Integer),
)


def _claim_in_one_statement(
    conn: sa.Connection, token: str, now: datetime, via: str
) -> ClaimResult | None:
    """PostgreSQL's claim: the result, or None when the link did not lead to an open offer
    (then nothing was written, and the caller finds out why)."""
    credit_id = new_id("crd")
    row = conn.execute(
        _CLAIM_IN_ONE_STATEMENT,
        {
            "state": OfferState.CLAIMED.value,
            "now": now.astimezone(UTC),
            "via": via,
            "token_hash": _token_hash(token),
            "credit_id": credit_id,
            "actor": f"subscriber:{via}",
            "action": f"offer.{OfferState.CLAIMED}",
        },
    ).one_or_none()
    if row is None:
        return None
    return ClaimResult(
        offer_id=row.id,
        credit_id=credit_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        granted_at=now,
        statement_date=statement_date_for(now, row.next_bill_date, row.billing_day),
        locale=row.locale,
    )


def claim_offer(uow: UnitOfWork, token: str, now: datetime, via: str = "web") -> ClaimResult:
    """Apply the credit behind `token` exactly once, in the caller's unit of work (the caller
    commits: until then nothing is durable).

    Raises OfferNotFound (unknown or revoked link), OfferAlreadyClaimed, OfferExpired or
    OfferRevoked, and then nothing has changed.
    """
    if uow.dialect == "postgresql":
        won = _claim_in_one_statement(uow.conn, token, now, via)
        if won is not None:
            return won
        # Nothing was written: the step-by-step claim finds out why and raises it.
    return _claim_step_by_step(uow, token, now, via)


def _claim_step_by_step(uow: UnitOfWork, token: str, now: datetime, via: str) -> ClaimResult:
    """The claim in separate statements: SQLite's, and on PostgreSQL the way to say why the
    one statement credited nothing (or to credit, should the offer have opened since)."""
    offer_id = _offer_id_for(uow, token)
    return _credit_offer(uow, offer_id, now, OfferState.CLAIMED, via, actor=f"subscriber:{via}")


def claim_with_link(engine: sa.Engine, token: str, now: datetime, via: str = "web") -> ClaimResult:
    """`claim_offer` in a transaction of its own (the claim page's POST).

    On PostgreSQL the claim statement runs alone in autocommit: being one statement it is
    atomic all the same, and it saves the BEGIN and COMMIT round trips, which at a thousand
    claims a second is a good part of the database's work. When it credits nothing, the
    step-by-step claim finds out why and raises it (nothing has changed), without running the
    statement a second time: refused links are what a guesser sends.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            won = _claim_in_one_statement(conn, token, now, via)
        if won is not None:
            return won
    with UnitOfWork(engine) as uow:
        result = _claim_step_by_step(uow, token, now, via)
        uow.commit()
        return result


def claim_offer_by_id(
    uow: UnitOfWork, offer_id: str, now: datetime, via: str = "inapp"
) -> ClaimResult:
    """Apply the credit of offer `offer_id` for its subscriber (the in-app message's claim
    action) exactly once, in the caller's unit of work (the caller commits); same guarantees
    and errors as `claim_offer`."""
    return _credit_offer(uow, offer_id, now, OfferState.CLAIMED, via, actor=f"subscriber:{via}")


def grant_offer(
    uow: UnitOfWork,
    offer_id: str,
    now: datetime,
    via: str,
    actor: str = "system",
    *,
    even_after_expiry: bool = False,
) -> ClaimResult:
    """Credit an open offer without a claim (an agent's grant) exactly once, in the caller's
    unit of work (the caller commits).

    Same guarantees and errors as `claim_offer`; the offer ends `granted`. `even_after_expiry`
    credits it although its window has closed (a goodwill grant).
    """
    granted, late = OfferState.GRANTED, even_after_expiry
    return _credit_offer(uow, offer_id, now, granted, via, actor, even_after_expiry=late)
