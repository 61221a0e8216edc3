"""Detection on Spark hands `propose_windows` exactly the bucket rows DuckDB does, so both
engines propose the same windows with the same accounts touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from makegood.telemetry.demo_world import World, generate_world
from makegood.telemetry.detect import Detection, DetectionRule
from makegood.telemetry.detect_duckdb import detect_duckdb
from makegood.telemetry.spark_detect import detect_spark
from makegood.telemetry.spark_session import get_spark
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def spark() -> Any:
    """One local Spark session for the tests (start-up takes seconds); stopped at exit."""
    return get_spark()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return generate_world(
        tmp_path_factory.mktemp("world"), accounts=1_500, days=2, attempts_per_account_day=6
    )


def both(events: str, by: tuple[str, ...], rule: DetectionRule, bucket: str) -> Detection:
    duck = detect_duckdb(events, rule, by, bucket)
    spark = detect_spark(events, rule, by, bucket)
    assert spark.rows == duck.rows
    assert spark.windows == duck.windows
    assert (spark.rows_read, spark.rows_bad) == (duck.rows_read, duck.rows_bad)
    return duck


@pytest.mark.parametrize("by", [(), ("region",), ("region", "device")])
def test_both_engines_see_the_generated_outage_alike(world: World, by: tuple[str, ...]) -> None:
    rule = DetectionRule(bucket_seconds=900, min_attempts=5)
    found = both(str(world.attempts_dir), by, rule, "15m")
    assert found.windows, "the generated outage is detected"
    assert all(w.accounts_touched for w in found.windows)
    assert len(found.rows) > 100


def test_missing_segment_values_and_offsets_bucket_alike(tmp_path: Path) -> None:
    rows = [
        attempt(f"acc_{i}", f"2026-03-22T{12 + i % 3:02d}:0{i % 10}:00+05:30", region=region)
        for i in range(60)
        for region in ("eu-west", "")  # an empty region is a missing one
    ]
    rows += [
        attempt(f"ok_{i}", f"2026-03-22T{6 + i % 3:02d}:0{i % 10}:00Z", outcome="success")
        for i in range(200)
    ]
    path = write_csv(tmp_path / "attempts.csv", ATTEMPT_COLUMNS, rows)
    found = both(str(path), ("region",), DetectionRule(bucket_seconds=3600, min_attempts=5), "1h")
    assert {row.segment for row in found.rows} == {("eu-west",), (None,), ("us-east",)}
