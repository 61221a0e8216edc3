"""Bulk eligibility on Spark gives exactly what domain.policy.decide (and DuckDB) gives."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from makegood.domain.money import Money
from makegood.domain.policy import FixedAmount, PercentOfPrice, single
from makegood.telemetry.engine import connect_duckdb
from makegood.telemetry.spark_eligibility import decide_in_spark
from makegood.telemetry.spark_session import get_spark
from tests.factories.eligibility_worlds import World, decided_rows, worlds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def spark() -> Any:
    """One local Spark session for every example (start-up takes seconds)."""
    return get_spark()


def run_spark(world: World) -> dict[str, tuple[object, ...]]:
    conn = connect_duckdb()
    try:
        world.load_cohort(conn)
        with tempfile.TemporaryDirectory() as scratch:
            files = world.write_files(Path(scratch))
            count = decide_in_spark(conn, files, world.credit, world.outage, scratch=Path(scratch))
            rows = decided_rows(conn)
        assert count == len(rows)
        return rows
    finally:
        conn.close()


# Each example is a few Spark jobs: fewer examples than on DuckDB, the same worlds.
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(max_accounts=20))
def test_spark_decides_as_the_domain_rule(world: World) -> None:
    assert run_spark(world) == world.expected()


def test_spark_exact_percent_and_fixed_amounts() -> None:
    plans = {
        "wide": (10**15, "USD"),
        "half": (50, "USD"),
        "yen": (1_650, "JPY"),
        "kwd": (16_667, "KWD"),
    }
    accounts = {p: ("active", p) for p in plans}
    for policy in (
        single(PercentOfPrice(Decimal("33.333333"))),
        single(PercentOfPrice(Decimal(3))),
        single(FixedAmount({"JPY": Money("JPY", 100), "KWD": Money("KWD", 0)})),
    ):
        world = World(plans, accounts, dict.fromkeys(plans, True), frozenset(), policy, None)
        assert run_spark(world) == world.expected()
