"""The claim use case on real SQLite and PostgreSQL: read-only view, exactly-once credit."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain import errors
from makegood.services.claims import (
    claim_offer,
    grant_offer,
    mask_email,
    statement_date_for,
    view_offer,
)
from makegood.store import tables as t
from tests.conftest import FrozenClock
from tests.integration.claim_seed import credit_rows, seed_offer, snapshot


def test_view_shows_the_offer_and_changes_nothing(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    before = snapshot(container.engine)

    with container.uow() as uow:
        view = view_offer(uow, seeded.token, container.now())

    assert view.offer_id == seeded.offer_id
    assert view.state == "open"
    assert view.masked_email == "j***@example.com"
    assert (view.amount_minor, view.currency) == (24, "USD")
    assert view.plan_name == "Premium Streaming"
    assert view.incident_title == "Playback outage of 22 March"
    assert view.evidence is not None
    assert view.evidence.failed_attempts == 4
    assert view.expires_at == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert view.statement_date == date(2026, 4, 1)
    assert snapshot(container.engine) == before


def test_claim_writes_one_credit_at_clock_time_and_an_audit_entry(
    container: Container, clock: FrozenClock
) -> None:
    seeded = seed_offer(container.engine, container.now())
    clock.advance(hours=3)

    with container.uow() as uow:
        result = claim_offer(uow, seeded.token, container.now())

    credits = credit_rows(container.engine, seeded.offer_id)
    assert len(credits) == 1
    assert credits[0].id == result.credit_id
    assert credits[0].granted_at == clock.now
    assert (credits[0].amount_minor, credits[0].currency) == (24, "USD")
    assert credits[0].account_id == seeded.account_id
    assert result.statement_date == date(2026, 4, 1)
    with container.engine.connect() as conn:
        offer = conn.execute(sa.select(t.offers).where(t.offers.c.id == seeded.offer_id)).one()
        audit = conn.execute(
            sa.select(t.audit_log).where(t.audit_log.c.subject_id == seeded.offer_id)
        ).all()
    assert (offer.state, offer.credited_at, offer.credited_via) == ("claimed", clock.now, "web")
    assert [a.action for a in audit] == ["offer.claimed"]
    assert audit[0].detail["credit_id"] == result.credit_id


def test_second_claim_is_already_claimed_and_adds_nothing(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    with container.uow() as uow:
        claim_offer(uow, seeded.token, container.now())
    before = snapshot(container.engine)

    with container.uow() as uow, pytest.raises(errors.OfferAlreadyClaimed):
        claim_offer(uow, seeded.token, container.now())

    assert snapshot(container.engine) == before
    with container.uow() as uow:
        assert view_offer(uow, seeded.token, container.now()).credited


def test_claim_at_the_expiry_instant_is_expired(container: Container, clock: FrozenClock) -> None:
    seeded = seed_offer(container.engine, container.now(), claim_days=7)
    clock.advance(days=7)  # exactly expires_at: the window is [launch, expires_at)

    with container.uow() as uow, pytest.raises(errors.OfferExpired):
        claim_offer(uow, seeded.token, container.now())

    assert credit_rows(container.engine, seeded.offer_id) == []


def test_claim_just_before_expiry_succeeds(container: Container, clock: FrozenClock) -> None:
    seeded = seed_offer(container.engine, container.now(), claim_days=7)
    clock.advance(days=7, microseconds=-1)

    with container.uow() as uow:
        claim_offer(uow, seeded.token, container.now())

    assert len(credit_rows(container.engine, seeded.offer_id)) == 1


@pytest.mark.parametrize("token", ["", "no-such-token", "x" * 1000])
def test_unknown_link_is_not_found(container: Container, token: str) -> None:
    seed_offer(container.engine, container.now())
    with container.uow() as uow:
        with pytest.raises(errors.OfferNotFound):
            view_offer(uow, token, container.now())
        with pytest.raises(errors.OfferNotFound):
            claim_offer(uow, token, container.now())


def test_revoked_link_is_not_found(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now(), token_revoked=True)
    with container.uow() as uow:
        with pytest.raises(errors.OfferNotFound):
            view_offer(uow, seeded.token, container.now())
        with pytest.raises(errors.OfferNotFound):
            claim_offer(uow, seeded.token, container.now())
    assert credit_rows(container.engine, seeded.offer_id) == []


def test_withdrawn_offer_cannot_be_claimed(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now(), state="revoked")
    with container.uow() as uow, pytest.raises(errors.OfferRevoked):
        claim_offer(uow, seeded.token, container.now())
    assert credit_rows(container.engine, seeded.offer_id) == []


def test_grant_then_claim_credits_once(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    with container.uow() as uow:
        granted = grant_offer(uow, seeded.offer_id, container.now(), via="agent", actor="agent:1")
    with container.uow() as uow, pytest.raises(errors.OfferAlreadyClaimed):
        claim_offer(uow, seeded.token, container.now())
    credits = credit_rows(container.engine, seeded.offer_id)
    assert [c.id for c in credits] == [granted.credit_id]


def test_fifty_concurrent_claims_write_exactly_one_credit(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    start = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        start.wait()
        try:
            with container.uow() as uow:
                claim_offer(uow, seeded.token, container.now())
            outcome = "claimed"
        except errors.OfferAlreadyClaimed:
            outcome = "already"
        except Exception as exc:  # any other outcome fails the test below
            outcome = f"error: {exc!r}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=claim) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already"] * 49 + ["claimed"]
    assert len(credit_rows(container.engine, seeded.offer_id)) == 1


def test_statement_date_skips_statements_already_cut() -> None:
    # Billing has not moved next_bill_date yet, but its cutoff (00:00 UTC) has passed.
    late = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    assert statement_date_for(late, date(2026, 4, 1), 1) == date(2026, 5, 1)
    just_before = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert statement_date_for(just_before, date(2026, 4, 1), 1) == date(2026, 4, 1)
    assert statement_date_for(late, date(2026, 2, 28), 31) == date(2026, 4, 30)


def test_masked_email_keeps_only_the_first_letter_and_domain() -> None:
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email("x@example.org") == "x***@example.org"
    assert mask_email("not-an-address") == "***"
