"""`makegood cohort INCIDENT --events PATH` against a migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import click
import duckdb
import pytest
import sqlalchemy as sa
from click.testing import Result

from makegood.cli import telemetry_cmds
from makegood.store.engine import make_engine
from makegood.store.tables import incidents
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.factories.incidents import declare_incident
from tests.harness.cli import invoke


@click.group()
def cli() -> None:
    """The root group with only the commands under test (main.py adds every module)."""


telemetry_cmds.register(cli)


def run(*args: str) -> Result:
    return invoke(cli, *args)


def add_incident(database_url: str, regions: list[str], devices: list[str]) -> str:
    engine = make_engine(database_url)
    try:
        return declare_incident(
            engine,
            title="Playback outage",
            starts_at=datetime(2026, 3, 22, 12, 0, tzinfo=UTC),
            ends_at=datetime(2026, 3, 22, 16, 0, tzinfo=UTC),
            at=datetime(2026, 3, 22, 17, 0, tzinfo=UTC),
            regions=regions,
            devices=devices,
        )
    finally:
        engine.dispose()


@pytest.fixture
def events(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            # acc_new is unknown to the database (no accounts imported): still affected.
            attempt("acc_new", "2026-03-22T13:30:00+05:30", region="eu-west"),  # 08:00Z: out
            attempt("acc_new", "2026-03-22T19:30:00+05:30", region="eu-west"),  # 14:00Z: in
            attempt("acc_a", "2026-03-22T12:00:00Z", region="us-east"),
            attempt("acc_a", "2026-03-22T12:00:00Z", region="us-east"),
            attempt("acc_w", "2026-03-22T12:00:00Z", region="us-west"),
        ],
    )


def test_cohort_prints_csv_on_stdout_and_a_summary_on_stderr(db: str, events: Path) -> None:
    incident = add_incident(db, regions=["us-east", "eu-west"], devices=[])
    result = run("cohort", incident, "--events", str(events))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        [
            "account_id",
            "failed_attempts",
            "first_failure_at",
            "last_failure_at",
            "impact_minutes",
        ],
        ["acc_a", "1", "2026-03-22T12:00:00+00:00", "2026-03-22T12:00:00+00:00", "240"],
        ["acc_new", "1", "2026-03-22T14:00:00+00:00", "2026-03-22T14:00:00+00:00", "120"],
    ]
    assert "2 affected accounts, 2 failed attempts" in result.stderr
    assert "1 duplicate rows counted once" in result.stderr


def test_cohort_json_is_one_document(db: str, events: Path) -> None:
    incident = add_incident(db, regions=[], devices=[])
    result = run("cohort", incident, "--events", str(events), "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["incident"] == incident
    assert document["affected"] == 3
    assert [r["account_id"] for r in document["rows"]] == ["acc_a", "acc_new", "acc_w"]
    assert document["rows"][1] == {
        "account_id": "acc_new",
        "failed_attempts": 1,
        "first_failure_at": "2026-03-22T14:00:00+00:00",
        "last_failure_at": "2026-03-22T14:00:00+00:00",
        "impact_minutes": 120,
    }


@pytest.mark.parametrize("name", ["cohort.csv", "cohort.parquet"])
def test_cohort_out_writes_the_file_and_keeps_stdout_empty(
    db: str, events: Path, tmp_path: Path, name: str
) -> None:
    incident = add_incident(db, regions=["us-west"], devices=["tv"])
    out = tmp_path / name
    result = run("cohort", incident, "--events", str(events), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote 1 rows to {out}" in result.stderr
    conn = duckdb.connect()
    assert conn.execute(
        "SELECT account_id FROM read_csv($p)"
        if name.endswith(".csv")
        else "SELECT account_id FROM read_parquet($p)",
        {"p": str(out)},
    ).fetchall() == [("acc_w",)]
    conn.close()


def test_unknown_incident_exits_not_found(db: str, events: Path) -> None:
    result = run("cohort", "inc_nope", "--events", str(events))
    assert result.exit_code == 3
    assert "no incident with id 'inc_nope'" in result.stderr
    assert result.stdout == ""


def test_bad_events_exit_with_the_file_and_line(db: str, tmp_path: Path) -> None:
    incident = add_incident(db, regions=[], devices=[])
    bad = write_csv(tmp_path / "bad.csv", ATTEMPT_COLUMNS, [attempt("acc_a", "not a time")])
    result = run("cohort", incident, "--events", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: column ts: 'not a time'" in result.stderr


def test_incident_scope_is_read_from_the_database(db: str) -> None:
    incident = add_incident(db, regions=["eu-west"], devices=["tv", "web"])
    engine = make_engine(db)
    with engine.connect() as conn:
        from makegood.store.incidents import Incidents
        from makegood.telemetry.incident_scope import load_incident_scope

        scope = load_incident_scope(Incidents(conn), incident)
        assert conn.execute(sa.select(sa.func.count()).select_from(incidents)).scalar() == 1
    engine.dispose()
    assert scope.regions == ("eu-west",)
    assert scope.devices == ("tv", "web")
    assert scope.starts_at == datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
