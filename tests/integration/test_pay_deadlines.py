"""Payment deadlines: with pay_within_days N, each credit claimed or granted at t counts as
applied on time when its statement date (00:00 UTC) or the connector's acknowledgement is at
most t + N days, late after, and overdue unapplied once now is past t + N (SQLite and
PostgreSQL, at the boundary to the second)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.ids import new_id
from makegood.services.billing_close import close_through
from makegood.services.reports import campaign_report
from makegood.store import tables as t
from makegood.store.tables_billing import connector_postings, credit_states
from tests.factories.catalog import account, plan, save_accounts, save_plans
from tests.factories.incidents import insert_incident_and_campaign
from tests.factories.offers import add_offer, claim
from tests.harness.clock import FrozenClock

N = 10
DAY = datetime(2026, 3, 22, tzinfo=UTC)  # credits granted around here; statements on 1 April


def _credit(
    conn: sa.Connection,
    campaign_id: str,
    incident_id: str,
    name: str,
    granted_at: datetime,
    next_bill: date,
) -> str:
    """Account `name`, billed on `next_bill`, claims its offer at `granted_at`: the credit id."""
    plan_id = f"pln-{name}"
    save_plans(conn, [plan(plan_id, name="Basic")], DAY)
    save_accounts(conn, [account(name, plan_id=plan_id, next_bill_date=next_bill)], DAY)
    offer_id = add_offer(
        conn,
        campaign_id=campaign_id,
        incident_id=incident_id,
        account_id=name,
        plan_id=plan_id,
        created_at=DAY - timedelta(days=2),
        expires_at=DAY + timedelta(days=30),
    )
    return claim(conn, offer_id, granted_at).credit_id


def _world(container: Container) -> tuple[str, dict[str, str]]:
    april, may = date(2026, 4, 1), date(2026, 5, 1)
    with container.engine.begin() as conn:
        incident_id, campaign_id = insert_incident_and_campaign(
            conn,
            title="Outage",
            starts_at=DAY - timedelta(days=3),
            ends_at=DAY - timedelta(days=2, hours=20),
            at=DAY - timedelta(days=2),
            affected_count=5,
            launched_at=DAY - timedelta(days=2),
            pay_within_days=N,
        )
        credits = {
            # Granted exactly N days before the 1 April statement: on time, to the second.
            "exact": _credit(conn, campaign_id, incident_id, "exact", DAY, april),
            # One second earlier: the same statement is one second late.
            "late": _credit(
                conn, campaign_id, incident_id, "late", DAY - timedelta(seconds=1), april
            ),
            # Billed in May: not applied yet; due at 25 March + N days.
            "waiting": _credit(
                conn, campaign_id, incident_id, "waiting", DAY + timedelta(days=3), may
            ),
            # Acknowledged by the billing connector N days after, to the second: on time.
            "posted": _credit(conn, campaign_id, incident_id, "posted", DAY, may),
            # Reversed: settled otherwise, never counted.
            "reversed": _credit(conn, campaign_id, incident_id, "reversed", DAY, may),
        }
        conn.execute(
            connector_postings.insert().values(
                id=new_id("pst"),
                credit_id=credits["posted"],
                connector="webhook",
                purpose="credit",
                account_id="posted",
                amount_minor=-24,
                currency="USD",
                idempotency_key="k-posted",
                state="acked",
                created_at=DAY,
                updated_at=DAY + timedelta(days=N),
                acked_at=DAY + timedelta(days=N),
            )
        )
        conn.execute(
            credit_states.insert().values(
                credit_id=credits["reversed"],
                state="reversed",
                reason="test",
                updated_at=DAY,
            )
        )
    return campaign_id, credits


def _counts(container: Container, campaign_id: str) -> tuple[int, int, int]:
    with container.uow() as uow:
        report = campaign_report(uow, campaign_id, container.now())
    return report["applied_on_time"], report["applied_late"], report["unapplied_overdue"]


def test_deadlines_are_counted_to_the_second(container: Container, clock: FrozenClock) -> None:
    campaign_id, credits = _world(container)
    clock.set(datetime(2026, 4, 1, 6, tzinfo=UTC))
    close_through(container, date(2026, 4, 1))

    # "waiting" was granted 25 March 00:00: due 4 April 00:00, overdue only after that.
    clock.set(datetime(2026, 4, 4, tzinfo=UTC))
    assert _counts(container, campaign_id) == (2, 1, 0)
    clock.set(datetime(2026, 4, 4, 0, 0, 1, tzinfo=UTC))
    assert _counts(container, campaign_id) == (2, 1, 1)

    with container.uow() as uow:
        unpaid = uow.reports.unpaid_credits(campaign_id, N, container.now())
    assert [(u.credit_id, u.overdue) for u in unpaid] == [(credits["waiting"], True)]


def test_without_a_deadline_the_counts_are_null(container: Container) -> None:
    campaign_id, _ = _world(container)
    with container.engine.begin() as conn:
        conn.execute(
            t.campaigns.update().where(t.campaigns.c.id == campaign_id).values(pay_within_days=None)
        )
    with container.uow() as uow:
        report = campaign_report(uow, campaign_id, container.now())
    assert report["pay_within_days"] is None
    assert report["applied_on_time"] is None
    assert report["unapplied_overdue"] is None
