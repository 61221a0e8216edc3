"""`makegood billing close` and `makegood statement` through the real command line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from click.testing import Result

from makegood.cli.main import cli
from makegood.store.engine import make_engine
from tests.factories.billing import add_account, add_credit, add_plan
from tests.harness.cli import invoke


@pytest.fixture
def seeded(db: str) -> dict[str, str]:
    engine = make_engine(db)
    with engine.begin() as conn:
        add_plan(conn, "basic", 799, "USD", name="Basic")
        add_plan(conn, "yen", 990, "JPY", name="Yen plan")
        add_account(conn, "acc-us")
        add_account(conn, "acc-jp", plan_id="yen")
        add_account(conn, "acc-paused", status="paused")
        ids = add_credit(conn, "acc-us", 24, datetime(2026, 3, 21, 19, tzinfo=UTC))
        add_credit(conn, "acc-jp", 30, datetime(2026, 3, 21, 19, tzinfo=UTC), "JPY", "yen")
    engine.dispose()
    return ids


def run(*args: str) -> Result:
    return invoke(cli, *args, catch_exceptions=False)


def test_close_prints_a_json_summary_and_says_what_it_did(seeded: dict[str, str]) -> None:
    result = run("billing", "close", "--through", "2026-04-01", "--json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "through": "2026-04-01",
        "accounts_billed": 2,
        "accounts_skipped": 0,
        "statements_created": 2,
        "credit_lines": 2,
        "charged": {"JPY": "990", "USD": "7.99"},
        "credits_applied": {"JPY": "30", "USD": "0.24"},
    }
    assert "2 statements for 2 accounts" in result.stderr
    assert "0.24 USD" in result.stderr

    again = run("billing", "close", "--through", "2026-04-01", "--json")
    assert json.loads(again.stdout)["statements_created"] == 0
    assert "nothing was due" in again.stderr


def test_statement_json_lists_statements_oldest_first(seeded: dict[str, str]) -> None:
    assert run("billing", "close", "--through", "2026-05-01").exit_code == 0

    result = run("statement", "acc-us", "--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [s["date"] for s in document] == ["2026-04-01", "2026-05-01"]
    april = document[0]
    assert set(april) == {"id", "date", "currency", "lines", "total"}
    assert april["currency"] == "USD"
    assert april["lines"] == [
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
            "campaign": seeded["campaign_id"],
        },
    ]
    assert april["total"] == "7.75"
    assert document[1]["total"] == "7.99"


def test_statement_without_json_is_a_readable_table(seeded: dict[str, str]) -> None:
    run("billing", "close", "--through", "2026-04-01")

    result = run("statement", "acc-jp")

    assert result.exit_code == 0
    table = result.stdout.splitlines()
    assert table[0].startswith("Statement stm_")
    assert table[0].endswith("2026-04-01  JPY")
    assert table[1].split()[:2] == ["charge", "990"]
    assert table[2].split()[:2] == ["credit", "-30"]
    assert table[3].split() == ["total", "960"]


def test_an_account_without_statements_gets_an_empty_list(seeded: dict[str, str]) -> None:
    result = run("statement", "acc-paused", "--json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    human = run("statement", "acc-paused")
    assert human.stdout == ""
    assert "no statements yet" in human.stderr


def test_an_unknown_account_exits_3_with_a_clear_message(db: str) -> None:
    result = run("statement", "nobody", "--json")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "account 'nobody' not found" in result.stderr


@pytest.mark.parametrize("bad", ["2026-02-30", "01/04/2026", "20260401", "tomorrow"])
def test_an_invalid_date_exits_2_and_changes_nothing(seeded: dict[str, str], bad: str) -> None:
    result = run("billing", "close", "--through", bad)
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr
    assert json.loads(run("statement", "acc-us", "--json").stdout) == []


def test_help_says_paused_and_cancelled_accounts_are_not_billed() -> None:
    result = run("billing", "close", "--help")
    assert result.exit_code == 0
    assert "Paused and cancelled accounts" in " ".join(result.stdout.split())


def test_the_date_is_written_back_in_iso_form(seeded: dict[str, str]) -> None:
    result = run("billing", "close", "--through", "2026-04-30", "--json")
    assert json.loads(result.stdout)["through"] == date(2026, 4, 30).isoformat()
