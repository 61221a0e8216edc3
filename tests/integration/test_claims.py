"""The claim use case on real SQLite and PostgreSQL: read-only view, exactly-once credit."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain import errors
from makegood.domain.calendar import statement_date_for
from makegood.domain.tokens import hash_token
from makegood.services.claims import (
    claim_offer,
    claim_offer_by_id,
    claim_with_link,
    grant_offer,
    mask_email,
    view_offer,
)
from makegood.store import tables as t
from makegood.store.tables_billing import ledger_entries
from tests.factories.offers import credit_rows, seed_offer, snapshot
from tests.harness.clock import FrozenClock


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
        uow.commit()

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


def _claim_traces(engine: sa.Engine, offer_id: str, credit_id: str) -> dict[str, object]:
    """Everything a claim writes about one offer, with its own ids left out."""
    o, c, a, le = t.offers, t.credits, t.audit_log, ledger_entries
    with engine.connect() as conn:
        offer = conn.execute(
            sa.select(o.c.state, o.c.credited_at, o.c.credited_via).where(o.c.id == offer_id)
        ).one()
        credit = conn.execute(
            sa.select(c.c.amount_minor, c.c.currency, c.c.granted_at, c.c.applied_minor).where(
                c.c.offer_id == offer_id
            )
        ).all()
        entries = conn.execute(
            sa.select(
                le.c.kind, le.c.amount_minor, le.c.currency, le.c.dedupe_key, le.c.actor
            ).where(le.c.credit_id == credit_id)
        ).all()
        audit = conn.execute(
            sa.select(a.c.at, a.c.actor, a.c.action, a.c.subject_type, a.c.detail).where(
                a.c.subject_id == offer_id
            )
        ).all()
    return {
        "offer": tuple(offer),
        "credit": [tuple(r) for r in credit],
        "ledger": [(*r[:3], r[3].replace(credit_id, "CREDIT"), r[4]) for r in entries],
        "audit": [(*r[:4], {**r[4], "credit_id": r[4]["credit_id"] == credit_id}) for r in audit],
    }


@pytest.mark.parametrize("own_transaction", [False, True], ids=["in-uow", "claim_with_link"])
def test_a_claim_by_link_writes_what_a_claim_by_offer_writes(
    container: Container, own_transaction: bool
) -> None:
    """The conformance test of the claim's strategies (store/offers.py): on PostgreSQL a claim
    by link is one statement (autocommitted by `claim_with_link`); it must leave the same rows
    as the step-by-step claim (by offer id, as the in-app message claims) does."""
    by_link = seed_offer(container.engine, container.now(), email="a@example.com")
    by_offer = seed_offer(container.engine, container.now(), email="b@example.com")

    if own_transaction:
        first = claim_with_link(container.engine, by_link.token, container.now(), via="web")
    else:
        with container.uow() as uow:
            first = claim_offer(uow, by_link.token, container.now(), via="web")
            uow.commit()
    with container.uow() as uow:
        second = claim_offer_by_id(uow, by_offer.offer_id, container.now(), via="web")
        uow.commit()

    assert (first.amount_minor, first.currency, first.statement_date, first.locale) == (
        second.amount_minor,
        second.currency,
        second.statement_date,
        second.locale,
    )
    traces = _claim_traces(container.engine, by_link.offer_id, first.credit_id)
    assert traces == _claim_traces(container.engine, by_offer.offer_id, second.credit_id)
    assert traces["ledger"] == [("granted", 24, "USD", "granted:CREDIT", "subscriber:web")]
    assert traces["credit"] == [(24, "USD", container.now(), 0)]


def test_offers_claim_at_once_only_where_the_dialect_has_the_statement(
    container: Container,
) -> None:
    """`uow.offers.claim_at_once`: on PostgreSQL the whole claim in one statement, returning
    what the result needs; elsewhere None without writing, and the caller claims step by step."""
    seeded = seed_offer(container.engine, container.now())
    before = snapshot(container.engine)
    with container.uow() as uow:
        won = uow.offers.claim_at_once(
            hash_token(seeded.token), container.now(), "web", "crd_at_once", "subscriber:web"
        )
        uow.commit()
    if container.engine.dialect.name == "postgresql":
        assert won is not None
        assert (won.offer_id, won.amount_minor, won.currency, won.locale) == (
            seeded.offer_id,
            24,
            "USD",
            "en-US",
        )
        assert [c.id for c in credit_rows(container.engine, seeded.offer_id)] == ["crd_at_once"]
    else:
        assert won is None
        assert snapshot(container.engine) == before


def test_claim_with_link_refuses_what_claim_offer_refuses(
    container: Container, clock: FrozenClock
) -> None:
    seeded = seed_offer(container.engine, container.now())
    expired = seed_offer(container.engine, container.now(), email="late@example.com")
    claim_with_link(container.engine, seeded.token, container.now())
    before = snapshot(container.engine)
    claim_statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        if "WITH won AS" in statement:
            claim_statements.append(statement)

    sa.event.listen(container.engine, "before_cursor_execute", count)
    try:
        with pytest.raises(errors.OfferAlreadyClaimed):
            claim_with_link(container.engine, seeded.token, container.now())
        with pytest.raises(errors.OfferNotFound):
            claim_with_link(container.engine, seeded.token[:-1], container.now())
        clock.advance(days=8)
        with pytest.raises(errors.OfferExpired):
            claim_with_link(container.engine, expired.token, container.now())
    finally:
        sa.event.remove(container.engine, "before_cursor_execute", count)
    assert snapshot(container.engine) == before
    # On PostgreSQL each refused claim ran the one-statement claim once, not again to explain.
    expected = 3 if container.engine.dialect.name == "postgresql" else 0
    assert len(claim_statements) == expected


def test_second_claim_is_already_claimed_and_adds_nothing(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    with container.uow() as uow:
        claim_offer(uow, seeded.token, container.now())
        uow.commit()
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
        uow.commit()

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
        uow.commit()
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
                uow.commit()
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
