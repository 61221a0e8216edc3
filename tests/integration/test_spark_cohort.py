"""The Spark engine gives exactly the DuckDB engine's cohort: same rows, same evidence, same
stats, same refusals, on generated worlds and on hand-made edge cases. Spark runs local."""

# ruff: noqa: S608 - the SQL here only names files the tests wrote into tmp_path.

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from makegood.domain.errors import InvalidInput
from makegood.telemetry.cohort import CohortRow, CohortStats, compute_cohort
from makegood.telemetry.demo_world import World, generate_world
from makegood.telemetry.source import AttemptSource
from makegood.telemetry.spark import compute_cohort_spark
from makegood.telemetry.spark_session import get_spark
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv

pytestmark = pytest.mark.slow

START = datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
END = datetime(2026, 3, 22, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def spark() -> Any:
    """One local Spark session for the tests (start-up takes seconds); stopped at exit."""
    return get_spark()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return generate_world(
        tmp_path_factory.mktemp("world"), accounts=1_500, days=2, attempts_per_account_day=6
    )


Cohort = tuple[list[CohortRow], CohortStats]


def both(
    events: str | AttemptSource,
    regions: list[str] | None = None,
    devices: list[str] | None = None,
    start: datetime = START,
    end: datetime = END,
    **options: Any,
) -> Cohort:
    """The cohort by each engine; asserts they agree and returns it."""
    with compute_cohort(events, start, end, regions or [], devices or [], **options) as result:
        duck = (list(result.rows()), result.stats)
    with compute_cohort_spark(events, start, end, regions or [], devices or [], **options) as out:
        spark = (list(out.rows()), out.stats)
        assert out.count == len(spark[0])
    assert spark == duck
    return duck


def by_account(rows: list[CohortRow]) -> dict[str, CohortRow]:
    return {row.account_id: row for row in rows}


def write_parquet(path: Path, rows: list[dict[str, object]]) -> Path:
    """Parquet with ts as a real timestamp column in microseconds, as Spark can read."""
    staging = write_csv(path.with_suffix(".csv.tmp"), ATTEMPT_COLUMNS, rows)
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(
        f"COPY (SELECT * REPLACE (CAST(ts AS TIMESTAMPTZ) AS ts) FROM read_csv('{staging}', "
        f"all_varchar = true, header = true)) TO '{path}' (FORMAT parquet)"
    )
    conn.close()
    staging.unlink()
    return path


@pytest.mark.parametrize(
    ("options", "devices"),
    [({}, []), ({"strict": True, "min_failures": 2}, []), ({}, ["tv", "web"])],
    ids=["default", "strict-min-failures", "device-scope"],
)
def test_spark_and_duckdb_agree_on_a_generated_world(
    world: World, options: dict[str, Any], devices: list[str]
) -> None:
    rows, stats = both(
        str(world.attempts_dir),
        list(world.outage_regions),
        devices,
        world.outage_starts_at,
        world.outage_ends_at,
        **options,
    )
    assert stats.affected == len(rows) > 100  # a real cohort, not two empty ones
    assert stats.rows_read == world.attempts
    assert [r.account_id for r in rows] == sorted(r.account_id for r in rows)


def test_spark_and_duckdb_write_the_same_files(world: World, tmp_path: Path) -> None:
    args: tuple[str, datetime, datetime, list[str], list[str]] = (
        str(world.attempts_dir),
        world.outage_starts_at,
        world.outage_ends_at,
        [],
        [],
    )
    for name in ("cohort.csv", "cohort.parquet"):
        with compute_cohort(*args) as result:
            duck = result.write(tmp_path / "duckdb" / name)
        with compute_cohort_spark(*args) as result:
            spark = result.write(tmp_path / "spark" / name)
        if name.endswith(".csv"):
            assert spark.read_text() == duck.read_text()
        else:
            query = "SELECT * FROM read_parquet('{}') ORDER BY account_id"
            conn = duckdb.connect()
            assert (
                conn.execute(query.format(spark)).fetchall()
                == conn.execute(query.format(duck)).fetchall()
            )
            conn.close()


def test_window_bounds_offsets_and_naive_utc(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("at_start", "2026-03-22T12:00:00Z"),
            attempt("just_before", "2026-03-22T11:59:59.999999Z"),
            attempt("at_end", "2026-03-22T16:00:00Z"),
            attempt("ist_start", "2026-03-22T17:30:00+05:30"),  # 12:00:00Z
            attempt("ist_before", "2026-03-22T17:29:59+05:30"),  # 11:59:59Z
            attempt("pst_last", "2026-03-22T07:59:59.999999-08:00"),  # 15:59:59.999999Z
            attempt("pst_end", "2026-03-22T08:00:00-08:00"),  # 16:00:00Z
            attempt("naive_utc", "2026-03-22 13:15:00"),
        ],
    )
    rows, _ = both(str(path))
    cohort = by_account(rows)
    assert sorted(cohort) == ["at_start", "ist_start", "naive_utc", "pst_last"]
    assert cohort["ist_start"].first_failure_at == START
    assert cohort["pst_last"].last_failure_at == datetime(
        2026, 3, 22, 15, 59, 59, 999999, tzinfo=UTC
    )
    assert cohort["pst_last"].impact_minutes == 1  # a microsecond before the end: rounded up


def test_duplicates_nulls_unknown_accounts_and_scope(tmp_path: Path) -> None:
    rows = [
        attempt("dup", "2026-03-22T13:00:00Z"),
        attempt("dup", "2026-03-22T13:00:00Z"),  # the same attempt shipped twice
        attempt("dup", "2026-03-22T18:30:00+05:30"),  # the same instant, another offset
        attempt("dup", "2026-03-22T13:00:00Z", device="web"),  # another attempt
        attempt("", "2026-03-22T13:00:00Z"),  # anonymous: skipped
        attempt("no_ts", ""),  # no timestamp: skipped
        attempt("acc_never_exported", "2026-03-22T14:00:00Z"),
        attempt("elsewhere", "2026-03-22T14:00:00Z", region="ap-south"),
        attempt("scoped", "2026-03-22T14:00:00Z", region="eu-west"),
    ]
    path = write_csv(tmp_path / "attempts.csv", ATTEMPT_COLUMNS, rows)
    result, stats = both(str(path), regions=["us-east", "eu-west"])
    cohort = by_account(result)
    assert sorted(cohort) == ["acc_never_exported", "dup", "scoped"]
    assert cohort["dup"].failed_attempts == 2
    assert (stats.rows_read, stats.rows_skipped, stats.duplicates_ignored) == (9, 2, 2)


def test_strict_impact_minutes_and_min_failures(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("recovered", "2026-03-22T12:10:00Z"),
            attempt("recovered", "2026-03-22T12:40:00.5Z", outcome="success", device="web"),
            attempt("recovered", "2026-03-22T12:50:00Z"),
            attempt("stuck", "2026-03-22T15:00:30Z"),
            attempt("stuck", "2026-03-22T11:00:00Z", outcome="success"),  # before: no matter
            attempt("once", "2026-03-22T13:00:00Z"),
            attempt("once", "2026-03-22T13:00:00Z", outcome="success"),  # same instant
        ],
    )
    plain = by_account(both(str(path))[0])
    assert {a: r.impact_minutes for a, r in plain.items()} == {
        "once": 180,
        "recovered": 31,
        "stuck": 60,
    }
    strict, stats = both(str(path), strict=True, min_failures=1)
    assert [r.account_id for r in strict] == ["once", "stuck"]
    assert stats.recovered == 1
    two, stats = both(str(path), min_failures=2)
    assert [r.account_id for r in two] == ["recovered"]
    assert stats.below_min_failures == 2


def test_mapped_columns_and_outcome_values_in_csv_and_json_lines(tmp_path: Path) -> None:
    renamed = [
        {"acct": "csv", "event_time": "2026-03-22T13:00:00+01:00", "result": "timeout"},
        {"acct": "csv", "event_time": "2026-03-22T13:05:00+01:00", "result": " ok "},
        {"acct": "csv2", "event_time": "2026-03-22T14:00:00Z", "result": "error"},
    ]
    write_csv(tmp_path / "logs.csv", ["acct", "event_time", "result"], renamed)
    lines = [
        {"acct": "json", "event_time": "2026-03-22T15:00:00-08:00", "result": "error"},
        {"acct": 42, "event_time": "2026-03-22T09:00:00-05:00", "result": "error"},
    ]
    (tmp_path / "logs.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    maps = ["account_id=acct", "ts=event_time", "outcome=result"]
    source = AttemptSource.from_options(
        str(tmp_path / "logs.csv"), maps, failure_values="error,timeout", success_values="ok"
    )
    rows, _ = both(source)
    assert [(r.account_id, r.impact_minutes) for r in rows] == [("csv", 5), ("csv2", 120)]
    json_source = AttemptSource.from_options(str(tmp_path / "*.jsonl"), maps, "error")
    assert [r.account_id for r in both(json_source)[0]] == ["42"]  # 14:00Z; 23:00Z is out


def test_parquet_csv_and_json_lines_in_one_directory(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_parquet(folder / "day1.parquet", [attempt("pq", "2026-03-22T12:30:00Z")])
    write_csv(
        folder / "day2.csv",
        ["account_id", "ts", "outcome"],  # no optional columns in this file
        [{"account_id": "csv", "ts": "2026-03-22T13:00:00Z", "outcome": "failure"}],
    )
    line = {"account_id": "js", "ts": "2026-03-22T14:00:00Z", "outcome": "failure"}
    (folder / "day3.jsonl").write_text(json.dumps(line) + "\n")
    rows, stats = both(str(folder))
    assert [r.account_id for r in rows] == ["csv", "js", "pq"]
    assert stats.files == 3


def test_both_engines_refuse_bad_rows_alike_or_skip_them_alike(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("ok", "2026-03-22T13:00:00Z"),
            attempt("bad_ts", "22/03/2026 13:00"),
            attempt("bad_outcome", "2026-03-22T13:00:00Z", outcome="maybe"),
        ],
    )
    messages = []
    for engine in (compute_cohort, compute_cohort_spark):
        with pytest.raises(InvalidInput) as refused:
            engine(str(path), START, END, [], [])
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    assert f"{path}:3: column ts" in messages[0]
    skipping = AttemptSource(str(path), on_bad_rows="skip")
    rows, stats = both(skipping)
    assert [r.account_id for r in rows] == ["ok"]
    assert stats.rows_bad == 2


def test_both_engines_refuse_a_missing_scope_column_alike(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ["account_id", "ts", "outcome"],
        [{"account_id": "a", "ts": "2026-03-22T13:00:00Z", "outcome": "failure"}],
    )
    messages = []
    for engine in (compute_cohort, compute_cohort_spark):
        with pytest.raises(InvalidInput) as refused:
            engine(str(path), START, END, ["us-east"], [])
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    assert "column region: missing" in messages[0]


@pytest.mark.parametrize(
    "options",
    [{}, {"min_failures": 2}, {"strict": True}],
    ids=["default", "min-failures", "strict"],
)
def test_the_documented_cases_of_docs_cohort_md(tmp_path: Path, options: dict[str, Any]) -> None:
    from tests.factories.cohort_cases import IMPACT, ROWS

    path = write_csv(tmp_path / "attempts.csv", ATTEMPT_COLUMNS, ROWS)
    rows, _ = both(str(path), regions=["us-east"], **options)
    assert {r.account_id: r.impact_minutes for r in rows}.items() <= IMPACT.items()
    if not options:
        assert {r.account_id for r in rows} == set(IMPACT)
