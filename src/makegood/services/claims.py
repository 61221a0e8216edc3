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
from datetime import date, datetime

from makegood.domain import errors
from makegood.domain.calendar import statement_date_for
from makegood.domain.ids import new_id
from makegood.domain.offers import CREDITED, OfferState, check_claimable
from makegood.domain.tokens import hash_token
from makegood.store import offers
from makegood.store.engine import Engine
from makegood.store.offers import WonClaim
from makegood.store.repository import RowMapping
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
    found = uow.offers.offer_for_link(_token_hash(token))
    if found is None:
        raise errors.OfferNotFound("this link is not valid")
    offer_id, revoked = found
    # A replaced link looks unknown; a link to a withdrawn offer says it was withdrawn.
    if revoked and uow.offers.state_of(offer_id) != OfferState.REVOKED:
        raise errors.OfferNotFound("this link is not valid")
    return offer_id


def _offer_row(uow: UnitOfWork, offer_id: str) -> RowMapping:
    """The offer with what its subscriber is told (`Offers.with_terms`)."""
    rows = uow.offers.with_terms(offer_id=offer_id)
    if not rows:
        raise errors.OfferNotFound("this link is not valid")
    return rows[0]


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
    late = even_after_expiry
    changed = uow.offers.credit(offer_id, now, new_state, via, even_after_expiry=late)
    row = _offer_row(uow, offer_id)
    if not changed:
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
    uow.credits.add(credit)
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


def _claimed(won: WonClaim, credit_id: str, now: datetime) -> ClaimResult:
    return ClaimResult(
        offer_id=won.offer_id,
        credit_id=credit_id,
        amount_minor=won.amount_minor,
        currency=won.currency,
        granted_at=now,
        statement_date=statement_date_for(now, won.next_bill_date, won.billing_day),
        locale=won.locale,
    )


def claim_offer(uow: UnitOfWork, token: str, now: datetime, via: str = "web") -> ClaimResult:
    """Apply the credit behind `token` exactly once, in the caller's unit of work (the caller
    commits: until then nothing is durable).

    Raises OfferNotFound (unknown or revoked link), OfferAlreadyClaimed, OfferExpired or
    OfferRevoked, and then nothing has changed.
    """
    # Where the dialect can (PostgreSQL), the whole claim is one statement (store/offers.py).
    credit_id = new_id("crd")
    won = uow.offers.claim_at_once(_token_hash(token), now, via, credit_id, f"subscriber:{via}")
    if won is not None:
        return _claimed(won, credit_id, now)
    # Nothing was written: the step-by-step claim finds out why and raises it.
    return _claim_step_by_step(uow, token, now, via)


def _claim_step_by_step(uow: UnitOfWork, token: str, now: datetime, via: str) -> ClaimResult:
    """The claim in separate statements: SQLite's, and on PostgreSQL the way to say why the
    one statement credited nothing (or to credit, should the offer have opened since)."""
    offer_id = _offer_id_for(uow, token)
    return _credit_offer(uow, offer_id, now, OfferState.CLAIMED, via, actor=f"subscriber:{via}")


def claim_with_link(engine: Engine, token: str, now: datetime, via: str = "web") -> ClaimResult:
    """`claim_offer` in a transaction of its own (the claim page's POST).

    On PostgreSQL the claim statement runs alone in autocommit: being one statement it is
    atomic all the same, and it saves the BEGIN and COMMIT round trips, which at a thousand
    claims a second is a good part of the database's work. When it credits nothing, the
    step-by-step claim finds out why and raises it (nothing has changed), without running the
    statement a second time: refused links are what a guesser sends.
    """
    credit_id = new_id("crd")
    actor = f"subscriber:{via}"
    won = offers.claim_at_once_alone(engine, _token_hash(token), now, via, credit_id, actor)
    if won is not None:
        return _claimed(won, credit_id, now)
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
