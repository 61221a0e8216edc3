"""The Stripe connector, with the official `stripe` library against a local fake Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from makegood.billing.statements import statements_for
from makegood.bootstrap import Container
from makegood.services.billing_close import close_through
from makegood.services.billing_push import push
from makegood.store.engine import make_engine
from makegood.store.tables import accounts
from makegood.store.tables_billing import connector_postings, ledger_entries
from tests.factories.billing import add_account, add_credit, add_plan
from tests.harness.clock import FrozenClock
from tests.harness.stripe import FakeStripe, stripe_settings

GRANTED = datetime(2026, 3, 21, 12, tzinfo=UTC)


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


def stripe_container(
    database_url: str, tmp_path: Path, clock: FrozenClock, fake: FakeStripe, **overrides: object
) -> Iterator[Container]:
    settings = stripe_settings(database_url, tmp_path, fake, **overrides)
    container = Container(settings=settings, engine=make_engine(database_url), clock=clock)
    yield container
    container.engine.dispose()


@pytest.fixture
def stripe(
    database_url: str, tmp_path: Path, clock: FrozenClock, fake_stripe: FakeStripe
) -> Iterator[Container]:
    yield from stripe_container(database_url, tmp_path, clock, fake_stripe)


def seed(container: Container) -> dict[str, dict[str, str]]:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_plan(uow.conn, "jp", price_minor=990, currency="JPY")
        add_account(uow.conn, "acc-us", stripe_customer_id="cus_US1")
        add_account(uow.conn, "acc-jp", plan_id="jp", stripe_customer_id="cus_JP1")
        add_account(uow.conn, "acc-none")
        found = {
            "us": add_credit(uow.conn, "acc-us", 24, GRANTED, title="Evening outage"),
            "jp": add_credit(uow.conn, "acc-jp", 30, GRANTED, currency="JPY", plan_id="jp"),
            "none": add_credit(uow.conn, "acc-none", 24, GRANTED),
        }
        uow.commit()
    return found


def postings(container: Container) -> dict[str, sa.Row[tuple[object, ...]]]:
    with container.uow() as uow:
        rows = uow.conn.execute(sa.select(connector_postings)).all()
    return {row.account_id: row for row in rows}


def test_each_credit_is_one_negative_balance_transaction_with_a_deterministic_key(
    stripe: Container, fake_stripe: FakeStripe
) -> None:
    credits = seed(stripe)

    summary = push(stripe)

    assert (summary.acked, summary.skipped, summary.failed) == (2, 1, 0)
    by_path = {r["path"]: r for r in fake_stripe.requests}
    us = by_path["/v1/customers/cus_US1/balance_transactions"]
    us_campaign = credits["us"]["campaign_id"]
    assert us["idempotency_key"] == f"makegood-{us_campaign}-acc-us"
    assert us["authorization"] == "Bearer sk_test_makegood"
    assert us["form"] == {
        "amount": "-24",
        "currency": "usd",
        "description": "Make-good credit: Evening outage",
        "metadata[makegood_credit_id]": credits["us"]["credit_id"],
        "metadata[makegood_campaign_id]": us_campaign,
        "metadata[makegood_account_id]": "acc-us",
        "metadata[makegood_purpose]": "credit",
    }
    jp = by_path["/v1/customers/cus_JP1/balance_transactions"]
    assert (jp["form"]["amount"], jp["form"]["currency"]) == ("-30", "jpy")
    assert len(fake_stripe.requests) == 2  # the account without a customer id was not sent

    rows = postings(stripe)
    assert rows["acc-us"].state == "acked"
    assert rows["acc-us"].external_id == fake_stripe.created[us["idempotency_key"]]["id"]
    assert rows["acc-none"].state == "skipped"
    assert "no stripe_customer_id" in (rows["acc-none"].last_error or "")
    with stripe.uow() as uow:
        assert uow.ledger.balance("acc-us", "USD") == 0
        assert uow.ledger.balance("acc-jp", "JPY") == 0
        assert uow.ledger.balance("acc-none", "USD") == 24  # still owed, not posted
        kinds = uow.conn.execute(
            sa.select(ledger_entries.c.kind, ledger_entries.c.reference).where(
                ledger_entries.c.account_id == "acc-us"
            )
        ).all()
    assert sorted(kinds) == [("granted", None), ("posted", f"stripe:{rows['acc-us'].external_id}")]


def test_a_second_push_sends_nothing_and_a_fixed_customer_is_posted_later(
    stripe: Container, fake_stripe: FakeStripe
) -> None:
    seed(stripe)
    push(stripe)
    sent = fake_stripe.count()

    again = push(stripe)
    assert (again.acked, again.requests) == (0, 0)
    assert fake_stripe.count() == sent

    with stripe.uow() as uow:
        uow.conn.execute(
            accounts.update()
            .where(accounts.c.account_id == "acc-none")
            .values(stripe_customer_id="cus_N")
        )
        uow.commit()
    later = push(stripe)
    assert (later.acked, later.skipped) == (1, 0)
    assert fake_stripe.requests[-1]["path"] == "/v1/customers/cus_N/balance_transactions"


def test_429_and_500_are_retried_with_the_same_key_and_credit_once(
    stripe: Container, fake_stripe: FakeStripe
) -> None:
    credits = seed(stripe)
    key = f"makegood-{credits['us']['campaign_id']}-acc-us"
    fake_stripe.fail[key] = [429, 500]

    summary = push(stripe)

    assert summary.acked == 2
    assert fake_stripe.keys_sent().count(key) == 3
    assert len(fake_stripe.created) == 2
    row = postings(stripe)["acc-us"]
    assert (row.state, row.attempts, row.last_error) == ("acked", 3, None)


def test_a_refusal_is_kept_with_its_error_and_retried_by_the_next_push(
    stripe: Container, fake_stripe: FakeStripe
) -> None:
    seed(stripe)
    fake_stripe.unknown_customers.add("cus_JP1")

    summary = push(stripe)

    assert (summary.acked, summary.failed) == (1, 1)
    row = postings(stripe)["acc-jp"]
    assert row.state == "failed"
    assert "No such customer" in (row.last_error or "")
    assert row.attempts == 1  # a 404 is not retried
    fake_stripe.unknown_customers.clear()
    assert push(stripe).acked == 1
    assert postings(stripe)["acc-jp"].state == "acked"


def test_persistent_server_errors_stop_after_the_attempt_limit_and_stay_pending(
    database_url: str, tmp_path: Path, clock: FrozenClock, fake_stripe: FakeStripe
) -> None:
    for container in stripe_container(
        database_url, tmp_path, clock, fake_stripe, billing_max_attempts=2
    ):
        credits = seed(container)
        key = f"makegood-{credits['us']['campaign_id']}-acc-us"
        fake_stripe.fail[key] = [500, 500, 500]
        summary = push(container)
        assert summary.failed == 1
        row = postings(container)["acc-us"]
        # Maybe received: stays pending, to be resent with the same key.
        assert (row.state, row.attempts) == ("pending", 2)
        assert push(container).acked == 1
        assert fake_stripe.keys_sent().count(key) == 4
        assert len(fake_stripe.created) == 2


def test_credits_posted_to_stripe_are_not_applied_again_on_our_statements(
    stripe: Container, fake_stripe: FakeStripe
) -> None:
    seed(stripe)
    push(stripe)

    close_through(stripe, date(2026, 4, 1))

    with stripe.uow() as uow:
        [april] = statements_for(uow, "acc-us")
    assert [line.kind for line in april.lines] == ["charge"]
