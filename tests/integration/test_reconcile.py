"""`makegood billing reconcile`: every difference between offers, credits, ledger and acks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from makegood.billing.connectors import Outcome
from makegood.billing.reconcile import reconcile
from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.services.billing_close import close_through
from makegood.services.billing_push import push
from makegood.services.claims import grant_offer
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.postings import Posting
from makegood.store.tables_billing import ledger_entries
from tests.factories.billing import add_account, add_campaign, add_open_offer, add_plan
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

NOW = datetime(2026, 3, 25, tzinfo=UTC)


class Refusing:
    name = "flaky"

    def send(self, posting: Posting) -> Outcome:
        return Outcome("failed", error="customer archived")


def world(database_url: str, tmp_path: Path, clock: FrozenClock) -> tuple[Container, str]:
    container = Container(make_settings(database_url, tmp_path), make_engine(database_url), clock)
    with container.uow() as uow:
        add_plan(uow.conn)
        campaign = add_campaign(uow.conn)
        for n in range(3):
            add_account(uow.conn, f"acc-{n}")
            add_open_offer(uow.conn, campaign, f"acc-{n}", 100 + n)
        uow.commit()
        offers = (
            uow.conn.execute(sa.select(t.offers.c.id).order_by(t.offers.c.account_id))
            .scalars()
            .all()
        )
    for offer in offers[:2]:
        with container.uow() as uow:
            grant_offer(uow, offer, clock.now, via="agent")
            uow.commit()
    return container, campaign


def kinds(container: Container, campaign: str) -> list[str]:
    with container.uow() as uow:
        return sorted(d.kind for d in reconcile(uow, campaign).differences)


def test_a_consistent_campaign_has_no_difference_and_each_tampering_is_named(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    container, campaign = world(database_url, tmp_path, clock)
    close_through(container, date(2026, 4, 1))
    assert kinds(container, campaign) == []

    with container.uow() as uow:
        credit = uow.conn.execute(
            sa.select(t.credits).where(t.credits.c.account_id == "acc-0")
        ).one()
        # A statement line deleted behind the ledger's back, and an offer reopened.
        uow.conn.execute(
            sa.delete(ledger_entries).where(
                ledger_entries.c.credit_id == credit.id, ledger_entries.c.kind == "applied"
            )
        )
        uow.conn.execute(
            t.offers.update().where(t.offers.c.id == credit.offer_id).values(state="open")
        )
        uow.commit()

    assert kinds(container, campaign) == ["applied_mismatch", "offer_not_credited"]
    container.engine.dispose()


def test_unacknowledged_postings_are_differences_and_the_command_exits_1(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    container, campaign = world(database_url, tmp_path, clock)
    push(container, connector=Refusing(), sleep=lambda _: None)

    runner = CliRunner()
    result = runner.invoke(cli, ["billing", "reconcile", campaign, "--json"], obj=container)

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["counts"] == {"unacknowledged_posting": 2}
    assert "customer archived" in document["differences"][0]["detail"]
    assert document["checked"] == {"offers": 3, "credits": 2, "postings": 2}
    assert runner.invoke(cli, ["billing", "reconcile", "cmp_nope"], obj=container).exit_code == 3
    container.engine.dispose()
