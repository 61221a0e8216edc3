"""Offers and their credits, written through store/offers.py and the claim service: one
claimable offer with everything it hangs off, or one more offer in a campaign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from makegood.domain.ids import new_id
from makegood.domain.tokens import hash_token, new_token
from makegood.services.claims import ClaimResult, claim_offer_by_id, grant_offer
from makegood.store import offers as offers_store
from makegood.store import tables as t
from makegood.store.bulk_insert import insert_dicts
from tests.factories.catalog import account, plan, save_accounts, save_plans
from tests.factories.incidents import insert_incident_and_campaign
from tests.factories.joined import JoinedUnitOfWork


@dataclass(frozen=True)
class SeededOffer:
    token: str  # the raw link token, as the e-mail would carry it
    offer_id: str
    account_id: str
    campaign_id: str
    incident_id: str


def add_member(
    conn: sa.Connection,
    campaign_id: str,
    account_id: str,
    *,
    plan_id: str,
    currency: str,
    amount_minor: int | None,
    first_failure_at: datetime,
    last_failure_at: datetime,
    failed_attempts: int = 3,
    excluded_reason: str | None = None,
    impact_minutes: int | None = None,
) -> None:
    """The account in the campaign's snapshot (excluded when `excluded_reason` is given)."""
    insert_dicts(
        conn,
        t.cohort_members,
        [
            {
                "campaign_id": campaign_id,
                "account_id": account_id,
                "failed_attempts": failed_attempts,
                "first_failure_at": first_failure_at,
                "last_failure_at": last_failure_at,
                "excluded_reason": excluded_reason,
                "plan_id": plan_id,
                "currency": currency,
                "amount_minor": amount_minor,
                "impact_minutes": impact_minutes,
            }
        ],
    )


def add_offer(
    conn: sa.Connection,
    *,
    campaign_id: str,
    incident_id: str,
    account_id: str,
    plan_id: str,
    created_at: datetime,
    expires_at: datetime,
    amount_minor: int = 24,
    currency: str = "USD",
    state: str = "open",
    token: str | None = None,
    inapp: bool = False,
    credited_at: datetime | None = None,
    credited_via: str | None = None,
    launch_email: bool = False,
) -> str:
    """An offer as a launch issues it (store/offers.py); `token` is its launch link, `inapp`
    gives it an unread in-app message, `launch_email` its launch e-mail, pending on the offer
    (carrying `token`) until the outbox takes it. Credit it with `claim` or `grant`."""
    offer_id = new_id("ofr")
    values = {
        "id": offer_id,
        "campaign_id": campaign_id,
        "incident_id": incident_id,
        "account_id": account_id,
        "state": state,
        "amount_minor": amount_minor,
        "currency": currency,
        "plan_id": plan_id,
        "created_at": created_at,
        "expires_at": expires_at,
        "credited_at": credited_at,
        "credited_via": credited_via,
        "token_hash": None if token is None else hash_token(token),
        "inapp_state": "unread" if inapp else None,
        "email_state": "pending" if launch_email else None,
        "email_token": token if launch_email else None,
    }
    rows = [tuple(values[c] for c in offers_store.LAUNCH_COLUMNS)]
    offers_store.Offers(conn).insert(rows)
    return offer_id


def add_link(
    conn: sa.Connection, offer_id: str, token: str, at: datetime, revoked: bool = False
) -> None:
    """One more claim link of the offer (as a reminder or a resend makes), maybe revoked."""
    offers_store.Offers(conn).add_links(
        [
            {
                "token_hash": hash_token(token),
                "offer_id": offer_id,
                "created_at": at,
                "revoked_at": at if revoked else None,
            }
        ],
    )


def claim(conn: sa.Connection, offer_id: str, at: datetime, via: str = "web") -> ClaimResult:
    """The subscriber claims the open offer at `at`, through the claim service (credit,
    ledger entry and audit entry), in the caller's transaction."""
    return claim_offer_by_id(JoinedUnitOfWork(conn), offer_id, at, via=via)


def grant(
    conn: sa.Connection, offer_id: str, at: datetime, via: str = "auto", actor: str = "system"
) -> ClaimResult:
    """The open offer credited without a claim, through the grant service."""
    return grant_offer(JoinedUnitOfWork(conn), offer_id, at, via=via, actor=actor)


def seed_offer(
    engine: sa.Engine,
    now: datetime,
    *,
    email: str = "jane.doe@example.com",
    locale: str = "en-US",
    currency: str = "USD",
    price_minor: int = 799,
    amount_minor: int = 24,
    next_bill_date: date = date(2026, 4, 1),
    claim_days: int = 7,
    state: str = "open",
    token_revoked: bool = False,
    account_id: str | None = None,
) -> SeededOffer:
    """One plan, account, incident, launched campaign, cohort member, offer and claim link.

    `state` "claimed" claims it now through the claim service; "revoked" issues it withdrawn.
    `token_revoked` keeps its link only as a revoked one (as a resend leaves the old link).
    """
    plan_id = new_id("pln")
    account_id = account_id or new_id("acc")
    token = new_token()
    outage_start = now - timedelta(days=1)
    with engine.begin() as conn:
        save_plans(
            conn,
            [plan(plan_id, name="Premium Streaming", price_minor=price_minor, currency=currency)],
            now,
        )
        save_accounts(
            conn,
            [
                account(
                    account_id,
                    plan_id=plan_id,
                    email=email,
                    locale=locale,
                    next_bill_date=next_bill_date,
                )
            ],
            now,
        )
        incident_id, campaign_id = insert_incident_and_campaign(
            conn,
            title="Playback outage of 22 March",
            starts_at=outage_start,
            ends_at=outage_start + timedelta(hours=5),
            at=now,
            affected_count=1,
            claim_days=claim_days,
            approved_at=now,
            approved_by="test",
            launched_at=now,
            launched_by="test",
        )
        add_member(
            conn,
            campaign_id,
            account_id,
            plan_id=plan_id,
            currency=currency,
            amount_minor=amount_minor,
            failed_attempts=4,
            first_failure_at=outage_start + timedelta(minutes=10),
            last_failure_at=outage_start + timedelta(hours=2),
        )
        offer_id = add_offer(
            conn,
            campaign_id=campaign_id,
            incident_id=incident_id,
            account_id=account_id,
            plan_id=plan_id,
            amount_minor=amount_minor,
            currency=currency,
            state="revoked" if state == "revoked" else "open",
            created_at=now,
            expires_at=now + timedelta(days=claim_days),
            # The launch's link lives on the offer; a replaced one in claim_tokens.
            token=None if token_revoked else token,
        )
        if token_revoked:
            add_link(conn, offer_id, token, now, revoked=True)
        if state == "claimed":
            claim(conn, offer_id, now)
        elif state not in ("open", "revoked"):
            raise ValueError(f"seed_offer: state {state!r}: use open, claimed or revoked")
    return SeededOffer(token, offer_id, account_id, campaign_id, incident_id)


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables a claim may touch, to prove that something changed nothing."""
    tables = (t.offers, t.credits, t.claim_tokens, t.audit_log, t.messages)
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key))
            ]
            for table in tables
        }


def credit_rows(engine: sa.Engine, offer_id: str) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(t.credits).where(t.credits.c.offer_id == offer_id)))
