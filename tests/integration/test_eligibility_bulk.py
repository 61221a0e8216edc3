"""Bulk eligibility in DuckDB gives exactly what domain.policy.decide gives, account by account."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from makegood.domain.errors import InvalidInput
from makegood.domain.money import Money
from makegood.domain.policy import FixedAmount, PercentOfPrice, single
from makegood.telemetry.eligibility import decide_in_duckdb
from makegood.telemetry.engine import connect_duckdb
from makegood.telemetry.policy_sql import percent_ratio
from tests.factories.eligibility_worlds import World, decided_rows, worlds


def run_duckdb(world: World) -> dict[str, tuple[object, ...]]:
    conn = connect_duckdb()
    try:
        world.load_cohort(conn)
        with tempfile.TemporaryDirectory() as scratch:
            files = world.write_files(Path(scratch))
            count = decide_in_duckdb(conn, files, world.credit, world.outage)
            rows = decided_rows(conn)
        assert count == len(rows)
        return rows
    finally:
        conn.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_duckdb_decides_as_the_domain_rule(world: World) -> None:
    assert run_duckdb(world) == world.expected()


@pytest.mark.parametrize(
    ("price", "percent", "currency"),
    [
        (50, "3", "USD"),  # 1.5 -> 2: half up
        (16_667, "3", "KWD"),  # 500.01 -> 500
        (1_650, "3", "JPY"),  # 49.5 -> 50
        (1, "50", "EUR"),  # 0.5 -> 1
        (1, "49.999999", "EUR"),  # just below half -> 0: zero_amount
        (10**15, "33.333333", "USD"),  # wide product, exact
    ],
)
def test_half_up_once_on_the_exact_product(price: int, percent: str, currency: str) -> None:
    world = World(
        plans={"p": (price, currency)},
        accounts={"a": ("active", "p")},
        cohort={"a": True},
        offered=frozenset(),
        policy=single(PercentOfPrice(Decimal(percent))),
        plan_filter=None,
    )
    assert run_duckdb(world) == world.expected()


def test_reasons_in_their_order_on_one_world() -> None:
    world = World(
        plans={"usd": (799, "USD"), "eur": (899, "EUR"), "free": (0, "USD")},
        accounts={
            "paused": ("paused", "usd"),
            "other_plan": ("active", "eur"),
            "no_amount": ("active", "usd"),
            "offered": ("active", "usd"),
            "ok": ("active", "usd"),
        },
        cohort={
            "ghost": True,
            "paused": True,
            "other_plan": True,
            "no_amount": True,
            "offered": True,
            "ok": True,
            "dropped": False,
        },
        offered=frozenset({"offered", "paused"}),
        policy=single(FixedAmount({"USD": Money("USD", 150)})),
        plan_filter=frozenset({"usd"}),
    )
    rows = run_duckdb(world)
    assert rows == world.expected()
    assert rows["ghost"][0] == "unknown_account"
    assert rows["paused"][0] == "not_active"
    assert rows["other_plan"][0] == "plan_not_eligible"
    assert rows["offered"][0] == "already_offered"
    assert rows["ok"][:4] == (None, "usd", "USD", 150)
    assert "dropped" not in rows


def test_a_percent_too_fine_to_compute_exactly_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at most 6 decimals"):
        percent_ratio(Decimal("3.0000001"))
    assert percent_ratio(Decimal("3.500000")) == (35, 1_000)
