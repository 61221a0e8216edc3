"""`makegood campaign reverse`: withdraw, cancel what is unbilled, charge back what was billed."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from makegood.billing.statements import statements_document, statements_for
from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.domain import errors
from makegood.domain.errors import InvalidState, NotFound
from makegood.services.billing_close import close_through
from makegood.services.billing_push import push
from makegood.services.claims import claim_offer, grant_offer
from makegood.services.reversal import reverse_campaign
from makegood.store import tables as t
from makegood.store.tables_billing import connector_postings, credit_states, ledger_entries
from tests.factories.billing import add_account, add_open_offer, table_snapshot
from tests.factories.offers import SeededOffer, seed_offer
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings
from tests.harness.stripe import FakeStripe, stripe_settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.store.engine import make_engine
from makegood.web.app import create_app


def plan_of(container: Container, seeded: SeededOffer) -> str:
    with container.uow() as uow:
        query = sa.select(t.offers.c.plan_id).where(t.offers.c.id == seeded.offer_id)
        return str(uow.conn.execute(query).scalar_one())


def campaign_with_three_accounts(container: Container, clock: FrozenClock) -> dict[str, str]:
    """A (open offer), B (credit billed on April 1), C (credit granted after April 1)."""
    seeded = seed_offer(container.engine, clock.now)
    plan = plan_of(container, seeded)
    with container.uow() as uow:
        for account in ("acc-b", "acc-c"):
            add_account(uow.conn, account, plan_id=plan, next_bill_date=date(2026, 4, 1))
        offer_b = add_open_offer(uow.conn, seeded.campaign_id, "acc-b", plan_id=plan)
        offer_c = add_open_offer(uow.conn, seeded.campaign_id, "acc-c", plan_id=plan)
        uow.commit()
    with container.uow() as uow:
        grant_offer(uow, offer_b, clock.now, via="agent")
        uow.commit()
    close_through(container, date(2026, 4, 1))
    clock.set(datetime(2026, 4, 5, 10, tzinfo=UTC))
    with container.uow() as uow:
        grant_offer(uow, offer_c, clock.now, via="agent")
        uow.commit()
    return {
        "campaign": seeded.campaign_id,
        "token": seeded.token,
        "a": seeded.account_id,
        "offer_a": seeded.offer_id,
    }


def balance(container: Container, account_id: str) -> int:
    with container.uow() as uow:
        return uow.ledger.balance(account_id, "USD")


def test_reverse_withdraws_open_offers_cancels_unbilled_and_charges_back_billed(
    container: Container, clock: FrozenClock
) -> None:
    ids = campaign_with_three_accounts(container, clock)
    assert (balance(container, "acc-b"), balance(container, "acc-c")) == (0, 24)

    summary = reverse_campaign(container, ids["campaign"], "wrong cohort", actor="ops")

    assert summary.offers_revoked == 1
    assert (summary.credits_reversed, summary.reversed_minor) == (1, {"USD": 24})
    assert (summary.charge_backs, summary.charge_back_minor) == (1, {"USD": 24})
    assert balance(container, "acc-c") == 0
    assert balance(container, "acc-b") == -24  # owed back until the next statement
    with container.uow() as uow:
        offer = uow.conn.execute(
            sa.select(t.offers.c.state).where(t.offers.c.id == ids["offer_a"])
        ).scalar_one()
        states = uow.conn.execute(sa.select(credit_states.c.state, credit_states.c.reason)).all()
        audit = uow.conn.execute(
            sa.select(t.audit_log.c.actor, t.audit_log.c.detail).where(
                t.audit_log.c.action == "campaign.reversed"
            )
        ).one()
        with pytest.raises(errors.OfferRevoked):
            claim_offer(uow, ids["token"], clock.now)
    assert offer == "revoked"
    assert [tuple(s) for s in states] == [("reversed", "campaign reversed: wrong cohort")] * 2
    assert audit.actor == "ops"
    assert audit.detail["reason"] == "wrong cohort"

    close_through(container, date(2026, 5, 1))

    with container.uow() as uow:
        b = statements_document(statements_for(uow, "acc-b"))
        c = statements_document(statements_for(uow, "acc-c"))
    may_b = b[-1]
    assert [(line["kind"], line["amount"]) for line in may_b["lines"]] == [
        ("charge", "7.99"),
        ("charge", "0.24"),
    ]
    assert may_b["lines"][1]["description"].startswith("Reversal of make-good credit")
    assert may_b["total"] == "8.23"
    assert [line["kind"] for line in c[-1]["lines"]] == ["charge"]  # C's credit never lands
    assert (balance(container, "acc-b"), balance(container, "acc-c")) == (0, 0)
    with container.uow() as uow:
        billed = uow.conn.execute(
            sa.select(ledger_entries.c.statement_id).where(
                ledger_entries.c.kind == "clawback_billed"
            )
        ).scalar_one()
    assert billed is not None  # the statement points at the entry it billed

    # Closing again charges nothing twice.
    close_through(container, date(2026, 6, 1))
    with container.uow() as uow:
        june = statements_document(statements_for(uow, "acc-b"))[-1]
    assert [line["kind"] for line in june["lines"]] == ["charge"]


def test_the_link_of_a_withdrawn_offer_says_so(container: Container, clock: FrozenClock) -> None:
    ids = campaign_with_three_accounts(container, clock)
    reverse_campaign(container, ids["campaign"], "wrong cohort")

    with TestClient(create_app(container), follow_redirects=False) as client:
        response = client.get(f"/claim/{ids['token']}")

    assert response.status_code == 410
    assert "withdrawn" in response.text.lower()


def test_a_campaign_is_reversed_once_and_refusals_change_nothing(
    container: Container, clock: FrozenClock
) -> None:
    ids = campaign_with_three_accounts(container, clock)
    with pytest.raises(NotFound):
        reverse_campaign(container, "cmp_nope", "x")
    reverse_campaign(container, ids["campaign"], "wrong cohort")
    with container.uow() as uow:
        before = table_snapshot(uow.conn)

    with pytest.raises(InvalidState, match="reversed already"):
        reverse_campaign(container, ids["campaign"], "again")

    with container.uow() as uow:
        assert table_snapshot(uow.conn) == before


def test_a_credit_posted_to_stripe_is_reversed_through_stripe(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    with FakeStripe() as fake:
        settings = stripe_settings(database_url, tmp_path, fake)
        container = Container(settings, make_engine(database_url), clock)
        seeded = seed_offer(container.engine, clock.now)
        with container.uow() as uow:
            uow.conn.execute(
                t.accounts.update()
                .where(t.accounts.c.account_id == seeded.account_id)
                .values(stripe_customer_id="cus_A")
            )
            uow.commit()
            claim_offer(uow, seeded.token, clock.now)
            uow.commit()
        # A posting that may be in flight blocks the reversal...
        fake.fail["makegood-" + seeded.campaign_id + "-" + seeded.account_id] = [500] * 5
        push(container)
        with pytest.raises(InvalidState, match="in flight"):
            reverse_campaign(container, seeded.campaign_id, "duplicate campaign")
        # ...until push has settled it.
        assert push(container).acked == 1

        summary = reverse_campaign(container, seeded.campaign_id, "duplicate campaign")
        assert summary.connector_reversals == 1
        assert push(container).acked == 1

        last = fake.requests[-1]
        assert last["path"] == "/v1/customers/cus_A/balance_transactions"
        key = f"makegood-{seeded.campaign_id}-{seeded.account_id}-reversal"
        assert last["idempotency_key"] == key
        assert (last["form"]["amount"], last["form"]["metadata[makegood_purpose]"]) == (
            "24",
            "reversal",
        )
        with container.uow() as uow:
            assert uow.ledger.balance(seeded.account_id, "USD") == 0
            rows = uow.conn.execute(
                sa.select(connector_postings.c.purpose, connector_postings.c.state)
            )
            assert sorted(tuple(r) for r in rows) == [("credit", "acked"), ("reversal", "acked")]
        container.engine.dispose()


def test_the_command_prints_the_reversal_id_or_one_json_document(
    database_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path)
    container = Container(settings, make_engine(database_url), clock)
    ids = campaign_with_three_accounts(container, clock)
    runner = CliRunner()

    missing = runner.invoke(cli, ["campaign", "reverse", ids["campaign"]], obj=container)
    assert missing.exit_code == 2
    unknown = runner.invoke(cli, ["campaign", "reverse", "cmp_x", "--reason", "r"], obj=container)
    assert unknown.exit_code == 3
    done = runner.invoke(
        cli, ["campaign", "reverse", ids["campaign"], "--reason", "oops", "--json"], obj=container
    )
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["offers_revoked"] == 1
    again = runner.invoke(
        cli, ["campaign", "reverse", ids["campaign"], "--reason", "r"], obj=container
    )
    assert again.exit_code == 4
    container.engine.dispose()
