"""Billing close on real SQLite and PostgreSQL: one statement per cycle, credits applied once."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from makegood.billing.statements import StatementView, statements_document, statements_for
from makegood.bootstrap import Container
from makegood.services.billing_close import CloseProgress, close_through, summary_document
from makegood.store.tables import accounts, statements
from tests.factories.billing import (
    add_account,
    add_credit,
    add_plan,
    credit_applied,
    next_bill_date,
    table_snapshot,
)

APRIL = date(2026, 4, 1)


def read(container: Container, account_id: str) -> list[StatementView]:
    with container.uow() as uow:
        return statements_for(uow, account_id)


def lines_of(view: StatementView) -> list[tuple[str, int]]:
    return [(line.kind, line.amount_minor) for line in view.lines]


def test_a_credit_granted_just_before_midnight_utc_lands_and_one_at_midnight_waits(
    container: Container,
) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1", next_bill_date=APRIL)
        before = add_credit(uow.conn, "acc-1", 24, datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC))
        at = add_credit(uow.conn, "acc-1", 30, datetime(2026, 4, 1, 0, 0, 0, tzinfo=UTC))
        uow.commit()

    close_through(container, date(2026, 5, 1))

    april, may = read(container, "acc-1")
    assert april.statement_date == APRIL
    assert lines_of(april) == [("charge", 799), ("credit", -24)]
    assert april.lines[1].campaign_id == before["campaign_id"]
    assert may.statement_date == date(2026, 5, 1)
    assert lines_of(may) == [("charge", 799), ("credit", -30)]
    assert may.lines[1].campaign_id == at["campaign_id"]
    assert (april.total_minor, may.total_minor) == (775, 769)
    assert april.created_at == container.now()


def test_closing_months_ahead_makes_one_statement_per_month_clamped_to_month_end(
    container: Container,
) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "end-of-month", next_bill_date=date(2026, 1, 31), billing_day=31)
        add_account(uow.conn, "first", next_bill_date=APRIL)
        uow.commit()

    summary = close_through(container, date(2026, 5, 31))

    assert [s.statement_date for s in read(container, "end-of-month")] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    assert [s.statement_date for s in read(container, "first")] == [APRIL, date(2026, 5, 1)]
    with container.uow() as uow:
        assert next_bill_date(uow.conn, "end-of-month") == date(2026, 6, 30)
        assert next_bill_date(uow.conn, "first") == date(2026, 6, 1)
    assert (summary.statements_created, summary.accounts_billed) == (7, 2)
    assert summary.charged_minor == {"USD": 7 * 799}


def test_running_close_again_changes_nothing(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1")
        add_account(uow.conn, "acc-2", next_bill_date=date(2026, 4, 15))
        add_credit(uow.conn, "acc-1", 2000, datetime(2026, 3, 21, tzinfo=UTC))
        uow.commit()
    first = close_through(container, date(2026, 6, 1))
    with container.uow() as uow:
        before = table_snapshot(uow.conn)

    again = close_through(container, date(2026, 6, 1))

    with container.uow() as uow:
        assert table_snapshot(uow.conn) == before
    assert first.statements_created == 5
    assert (again.statements_created, again.accounts_billed, again.credits_applied_minor) == (
        0,
        0,
        {},
    )


def test_a_credit_bigger_than_the_charge_carries_over_and_no_total_is_negative(
    container: Container,
) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1")
        big = add_credit(uow.conn, "acc-1", 2000, datetime(2026, 3, 21, tzinfo=UTC))
        uow.commit()

    close_through(container, APRIL)
    with container.uow() as uow:
        assert credit_applied(uow.conn, big["credit_id"]) == 799
    close_through(container, date(2026, 6, 1))

    found = read(container, "acc-1")
    assert [s.total_minor for s in found] == [0, 0, 397]
    assert [lines_of(s) for s in found] == [
        [("charge", 799), ("credit", -799)],
        [("charge", 799), ("credit", -799)],
        [("charge", 799), ("credit", -402)],
    ]
    assert "carried over" in found[1].lines[1].description
    with container.uow() as uow:
        assert credit_applied(uow.conn, big["credit_id"]) == 2000


def test_a_credit_in_another_currency_than_the_plan_is_not_applied(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1")
        euros = add_credit(uow.conn, "acc-1", 24, datetime(2026, 3, 21, tzinfo=UTC), "EUR")
        uow.commit()

    summary = close_through(container, APRIL)

    [april] = read(container, "acc-1")
    assert lines_of(april) == [("charge", 799)]
    assert summary.credits_applied_minor == {}
    with container.uow() as uow:
        assert credit_applied(uow.conn, euros["credit_id"]) == 0


def test_paused_and_cancelled_accounts_are_not_billed(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "paused", status="paused")
        add_account(uow.conn, "cancelled", status="cancelled")
        held = add_credit(uow.conn, "paused", 24, datetime(2026, 3, 21, tzinfo=UTC))
        add_account(uow.conn, "active")
        uow.commit()

    summary = close_through(container, date(2026, 5, 1))

    assert (read(container, "paused"), read(container, "cancelled")) == ([], [])
    with container.uow() as uow:
        assert next_bill_date(uow.conn, "paused") == APRIL
        assert next_bill_date(uow.conn, "cancelled") == APRIL
        assert credit_applied(uow.conn, held["credit_id"]) == 0
    assert summary.accounts_billed == 1


def test_pages_cover_every_due_account_and_report_progress(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        for n in range(7):
            add_account(uow.conn, f"acc-{n:02d}")
        add_account(uow.conn, "later", next_bill_date=date(2026, 9, 1))
        uow.commit()
    reports: list[CloseProgress] = []

    summary = close_through(container, APRIL, progress=reports.append, batch_size=3)

    assert [r.accounts_seen for r in reports] == [3, 6, 7]
    assert reports[-1].statements_created == 7
    assert summary.statements_created == 7
    assert read(container, "later") == []


def test_a_rewound_next_bill_date_never_duplicates_a_statement(container: Container) -> None:
    """A re-import may set next_bill_date back; the statement for that date already exists."""
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1")
        add_credit(uow.conn, "acc-1", 24, datetime(2026, 3, 21, tzinfo=UTC))
        uow.commit()
    close_through(container, APRIL)
    with container.uow() as uow:
        uow.conn.execute(sa.update(accounts).values(next_bill_date=APRIL))
        uow.commit()

    close_through(container, date(2026, 5, 1))

    found = read(container, "acc-1")
    assert [s.statement_date for s in found] == [APRIL, date(2026, 5, 1)]
    assert [s.total_minor for s in found] == [775, 799]
    with container.uow() as uow:
        assert next_bill_date(uow.conn, "acc-1") == date(2026, 6, 1)


def test_amounts_use_the_currency_exponent_jpy_and_kwd(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn, "yen", 990, "JPY")
        add_plan(uow.conn, "dinar", 3500, "KWD")
        add_account(uow.conn, "jp", plan_id="yen")
        add_account(uow.conn, "kw", plan_id="dinar")
        add_credit(uow.conn, "jp", 30, datetime(2026, 3, 21, tzinfo=UTC), "JPY", "yen")
        add_credit(uow.conn, "kw", 105, datetime(2026, 3, 21, tzinfo=UTC), "KWD", "dinar")
        uow.commit()

    summary = close_through(container, APRIL)

    [jp] = statements_document(read(container, "jp"))
    [kw] = statements_document(read(container, "kw"))
    assert [(x["amount"]) for x in jp["lines"]] + [jp["total"]] == ["990", "-30", "960"]
    assert [(x["amount"]) for x in kw["lines"]] + [kw["total"]] == ["3.500", "-0.105", "3.395"]
    assert summary_document(summary)["credits_applied"] == {"JPY": "30", "KWD": "0.105"}


def test_statement_json_has_the_exact_public_shape(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn, name="Basic")
        add_account(uow.conn, "acc-1")
        granted = add_credit(uow.conn, "acc-1", 24, datetime(2026, 3, 21, tzinfo=UTC))
        uow.commit()
    close_through(container, APRIL)

    [document] = statements_document(read(container, "acc-1"))

    assert document == {
        "id": document["id"],
        "date": "2026-04-01",
        "currency": "USD",
        "lines": [
            {
                "kind": "charge",
                "amount": "7.99",
                "description": "Basic, 2026-04-01 to 2026-04-30",
                "campaign": None,
            },
            {
                "kind": "credit",
                "amount": "-0.24",
                "description": "Make-good credit: Streaming outage",
                "campaign": granted["campaign_id"],
            },
        ],
        "total": "7.75",
    }
    assert document["id"].startswith("stm_")


_accounts = itertools.count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    price=st.integers(min_value=0, max_value=2500),
    grants=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=4000),
            st.integers(min_value=-30 * 24, max_value=100 * 24),  # hours from Apr 1 00:00 UTC
            st.sampled_from(["USD", "USD", "EUR"]),
        ),
        max_size=6,
    ),
)
def test_totals_are_the_sum_of_lines_and_credits_apply_at_most_once(
    container: Container, price: int, grants: list[tuple[int, int, str]]
) -> None:
    # Each example gets its own plan and account; earlier ones are already closed through
    # the same date, so they are not touched again.
    n = next(_accounts)
    plan_id, account_id = f"plan-{n}", f"prop-{n}"
    start = datetime(2026, 4, 1, tzinfo=UTC)
    with container.uow() as uow:
        add_plan(uow.conn, plan_id, price)
        add_account(uow.conn, account_id, plan_id=plan_id)
        seeded = [
            (add_credit(uow.conn, account_id, amount, start + timedelta(hours=h), cur, plan_id))
            for amount, h, cur in grants
        ]
        uow.commit()

    close_through(container, date(2026, 7, 1))

    found = read(container, account_id)
    assert len(found) == 4
    credited: dict[str, int] = {}
    for view in found:
        assert view.total_minor == sum(line.amount_minor for line in view.lines)
        assert 0 <= view.total_minor <= price
        for line in view.lines:
            if line.kind == "credit":
                assert line.campaign_id is not None
                credited[line.campaign_id] = credited.get(line.campaign_id, 0) - line.amount_minor
    with container.uow() as uow:
        for (amount, _, currency), ids in zip(grants, seeded, strict=True):
            applied = credit_applied(uow.conn, ids["credit_id"])
            assert applied == credited.get(ids["campaign_id"], 0)
            assert applied <= amount
            if currency == "EUR":
                assert applied == 0
        count = uow.conn.execute(
            sa.select(sa.func.count()).where(statements.c.account_id == account_id)
        )
        assert count.scalar_one() == 4


@pytest.mark.parametrize("missing", ["nobody", ""])
def test_statements_of_an_unknown_account_is_not_found(container: Container, missing: str) -> None:
    from makegood.domain.errors import NotFound

    with container.uow() as uow, pytest.raises(NotFound, match="not found"):
        statements_for(uow, missing)


def test_an_account_changed_after_its_page_was_read_is_left_alone(container: Container) -> None:
    from makegood.services.billing_close import CloseSummary, close_page

    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1")
        add_account(uow.conn, "acc-2")
        add_account(uow.conn, "acc-3")
        uow.commit()
    with container.uow() as uow:
        page = uow.accounts.due_for_billing(APRIL, None, 10)
    with container.uow() as uow:  # e.g. an import paused acc-2 meanwhile
        uow.conn.execute(
            sa.update(accounts).where(accounts.c.account_id == "acc-2").values(status="paused")
        )
        uow.commit()
    summary = CloseSummary(through=APRIL)

    with container.uow() as uow:
        close_page(uow, page, APRIL, container.now(), summary)
        uow.commit()

    assert (summary.accounts_billed, summary.accounts_skipped) == (2, 1)
    assert [len(read(container, a)) for a in ("acc-1", "acc-2", "acc-3")] == [1, 0, 1]
    with container.uow() as uow:
        assert next_bill_date(uow.conn, "acc-2") == APRIL
        assert next_bill_date(uow.conn, "acc-3") == date(2026, 5, 1)
