"""The billing repositories' dialect strategies (issue 16): PostgreSQL moves a page's bill dates
and applied amounts in one statement each (arrays, unnested) and writes statements and large
ledger batches by COPY; SQLite uses executemany. Each answers the same on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.store.ledger import BULK_ROWS, Entry
from makegood.store.tables import accounts
from tests.factories.billing import (
    add_account,
    add_credit,
    add_plan,
    credit_applied,
    next_bill_date,
)

APRIL = date(2026, 4, 1)
MAY = date(2026, 5, 1)
NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def monthly_statements(account_id: str, count: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"stm-{n:03d}",
            "account_id": account_id,
            "statement_date": date(2026 + n // 12, n % 12 + 1, 1),
            "currency": "USD",
            "total_minor": 799 - n,
            "created_at": NOW,
        }
        for n in range(count)
    ]


def test_bill_dates_move_only_where_still_as_read(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        for account_id in ("acc-1", "acc-2", "acc-3"):
            add_account(uow.conn, account_id)
        page = uow.accounts.due_for_billing(APRIL, None, 10)
        uow.conn.execute(  # changed after the page was read
            sa.update(accounts).where(accounts.c.account_id == "acc-2").values(status="paused")
        )

        moved = uow.accounts.move_next_bill_dates([(a, MAY) for a in page], NOW)

        assert [a.account_id for a in page] == ["acc-1", "acc-2", "acc-3"]
        assert moved == 2
        assert [next_bill_date(uow.conn, a) for a in ("acc-1", "acc-2", "acc-3")] == [
            MAY,
            APRIL,
            MAY,
        ]
        assert uow.accounts.move_next_bill_dates([(page[0], MAY)], NOW) == 0  # moved already


def test_applied_amounts_rise_per_credit_and_never_past_the_credit(
    container: Container,
) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1")
        add_account(uow.conn, "acc-2")
        first = add_credit(uow.conn, "acc-1", 30, NOW)["credit_id"]
        second = add_credit(uow.conn, "acc-2", 50, NOW)["credit_id"]

        uow.credits.add_applied({first: 10, second: 50})
        uow.credits.add_applied({first: 5})

        assert (credit_applied(uow.conn, first), credit_applied(uow.conn, second)) == (15, 50)
        with pytest.raises(sa.exc.IntegrityError):
            uow.credits.add_applied({second: 1})


def test_statements_and_their_lines_read_back_as_written(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1")
        statements = monthly_statements("acc-1", 60)
        lines = [
            {
                "statement_id": s["id"],
                "position": 1,
                "kind": "charge",
                "amount_minor": s["total_minor"],
                "description": "Basic\tplan, a \\ and\na new line",  # COPY's escapes
                "plan_id": "basic",
                "credit_id": None,
                "campaign_id": None,
            }
            for s in statements
        ]

        uow.statements.add(statements, lines)

        read = uow.statements.of_account("acc-1")
        assert [(r.id, r.statement_date, r.total_minor, r.created_at) for r in read] == [
            (s["id"], s["statement_date"], s["total_minor"], NOW) for s in statements
        ]
        assert [
            (r.statement_id, r.kind, r.amount_minor, r.description)
            for r in uow.statements.lines_of_account("acc-1")
        ] == [(x["statement_id"], "charge", x["amount_minor"], x["description"]) for x in lines]
        assert uow.statements.existing_dates(["acc-1"], date(2026, 3, 1)) == {
            ("acc-1", date(2026, 1, 1)),
            ("acc-1", date(2026, 2, 1)),
            ("acc-1", date(2026, 3, 1)),
        }


@pytest.mark.parametrize("entries", [3, BULK_ROWS])  # a few INSERTs; COPY on PostgreSQL
def test_ledger_entries_append_alike_by_insert_and_by_copy(
    container: Container, entries: int
) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "acc-1")
        credit = add_credit(uow.conn, "acc-1", 10 * entries, NOW)["credit_id"]
        uow.statements.add(monthly_statements("acc-1", entries), [])

        written = uow.ledger.append(
            [
                Entry("applied", credit, "acc-1", "USD", -10, statement_id=f"stm-{n:03d}")
                for n in range(entries)
            ]
            + [Entry("applied", credit, "acc-1", "USD", 0, statement_id="stm-000")],
            NOW,
            "test",
        )

        assert written == entries  # a zero amount is no entry
        assert uow.ledger.balance("acc-1", "USD") == 0
        assert uow.ledger.unsettled([credit]) == {credit: 0}
        assert {e.dedupe_key for e in uow.ledger.entries_for_credits([credit])} == {
            f"granted:{credit}",
            *(f"applied:{credit}:stm-{n:03d}" for n in range(entries)),
        }
