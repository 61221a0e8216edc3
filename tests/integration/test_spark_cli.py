"""`--engine spark` on the commands: the same output as the default DuckDB engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result

from makegood.cli import detect_cmds, telemetry_cmds
from makegood.settings import get_settings
from makegood.store.engine import make_engine
from makegood.store.tables import incidents
from makegood.telemetry.spark_session import get_spark
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.harness.cli import invoke

pytestmark = pytest.mark.slow


@click.group()
def cli() -> None:
    """The root group with only the commands under test."""


telemetry_cmds.register(cli)
cli.add_command(detect_cmds.detect)


@pytest.fixture(scope="module", autouse=True)
def spark() -> Any:
    """One local Spark session for the tests (start-up takes seconds); stopped at exit."""
    return get_spark()


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", database_url)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            incidents.insert().values(
                id="inc_test",
                title="Playback outage",
                starts_at=datetime(2026, 3, 22, 12, 0, tzinfo=UTC),
                ends_at=datetime(2026, 3, 22, 16, 0, tzinfo=UTC),
                regions=["us-east"],
                devices=[],
                created_at=datetime(2026, 3, 22, 17, 0, tzinfo=UTC),
                created_by="ops@example.com",
            )
        )
    engine.dispose()
    yield database_url
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return invoke(cli, *args)


def test_cohort_with_engine_spark_prints_what_duckdb_prints(db: str, tmp_path: Path) -> None:
    events = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("acc_b", "2026-03-22T19:30:00+05:30"),
            attempt("acc_b", "2026-03-22T14:10:00Z", outcome="success"),
            attempt("acc_a", "2026-03-22T12:00:00Z"),
            attempt("acc_a", "2026-03-22T12:00:00Z"),
            attempt("acc_w", "2026-03-22T12:00:00Z", region="us-west"),
        ],
    )
    outputs = {}
    for engine in ("duckdb", "spark"):
        result = run("cohort", "inc_test", "--events", str(events), "--engine", engine, "--json")
        assert result.exit_code == 0, result.output
        outputs[engine] = json.loads(result.stdout)
    assert outputs["spark"] == outputs["duckdb"]
    assert [row["account_id"] for row in outputs["spark"]["rows"]] == ["acc_a", "acc_b"]


def test_detect_with_engine_spark_prints_what_duckdb_prints(db: str, tmp_path: Path) -> None:
    rows = [attempt(f"acc_{i}", f"2026-03-22T13:{i % 60:02d}:00Z") for i in range(40)]
    rows += [
        attempt(f"ok_{i}", f"2026-03-22T{8 + i % 4:02d}:{i % 60:02d}:00Z", outcome="success")
        for i in range(200)
    ]
    events = write_csv(tmp_path / "attempts.csv", ATTEMPT_COLUMNS, rows)
    outputs = {}
    for engine in ("duckdb", "spark"):
        result = run(
            "detect", "--events", str(events), "--bucket", "1h", "--engine", engine, "--json"
        )
        assert result.exit_code == 0, result.output
        outputs[engine] = json.loads(result.stdout)
    assert outputs["spark"] == outputs["duckdb"]
    assert outputs["spark"]["windows"]
