"""`makegood demo generate`: chunked, deterministic, configurable worlds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from makegood.cli.main import cli
from makegood.telemetry.demo_world import Outage, World, generate_world


def rows(world: World) -> list[tuple[object, ...]]:
    conn = duckdb.connect()
    found = conn.execute(
        "SELECT account_id, epoch_us(ts), outcome, error_code, region, device "
        "FROM read_parquet($files) ORDER BY ALL",
        {"files": [str(p) for p in world.attempt_files]},
    ).fetchall()
    conn.close()
    return found


def test_chunks_bound_the_files_without_changing_the_rows(tmp_path: Path) -> None:
    whole = generate_world(tmp_path / "whole", accounts=1_000, days=2, attempts=20_000)
    said: list[str] = []
    chunked = generate_world(
        tmp_path / "chunked", accounts=1_000, days=2, attempts=20_000, chunk_attempts=3_000,
        say=said.append,
    )  # fmt: skip
    assert [p.name for p in whole.attempt_files] == [
        "attempts-2026-03-20.parquet",
        "attempts-2026-03-21.parquet",
    ]
    assert len(chunked.attempt_files) == 2 * 4  # 10,000 a day in chunks of about 3,000
    assert chunked.attempt_files[0].name == "attempts-2026-03-20-000.parquet"
    assert rows(chunked) == rows(whole)
    assert chunked.attempts == whole.attempts
    assert 20_000 <= whole.attempts <= 24_000  # about the target; retries add a little
    assert len(said) == 1 + 8
    assert said[1].startswith("day 1/2, file 1/4: ")


def test_the_outage_is_configurable(tmp_path: Path) -> None:
    outage = Outage(
        day=0,
        start=time(3, 0),
        length=timedelta(minutes=30),
        regions=("ap-northeast",),
        devices=("mobile",),
        failure_rate=1.0,
    )
    world = generate_world(tmp_path, accounts=2_000, days=1, attempts=40_000, outage=outage)
    assert world.outage_starts_at == datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
    assert world.outage_ends_at == datetime(2026, 3, 20, 3, 30, tzinfo=UTC)
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    inside = conn.execute(
        "SELECT region = 'ap-northeast' AND device = 'mobile' AS hit, "
        "count(*) FILTER (outcome = 'failure'), count(*) FROM read_parquet($f) "
        "WHERE ts >= $s AND ts < $e GROUP BY ALL ORDER BY ALL",
        {
            "f": [str(p) for p in world.attempt_files],
            "s": world.outage_starts_at,
            "e": world.outage_ends_at,
        },
    ).fetchall()
    conn.close()
    (_, missed_fail, missed_total), (_, hit_fail, hit_total) = inside
    assert hit_total > 0
    assert hit_fail == hit_total  # failure rate 1.0 where the outage is
    assert missed_fail < 0.05 * missed_total
    with pytest.raises(ValueError, match="outage regions must be some of"):
        generate_world(tmp_path, accounts=10, outage=Outage(regions=("mars",)))


def test_demo_generate_cli_writes_the_world_and_its_truth(tmp_path: Path) -> None:
    out = tmp_path / "world"
    result = CliRunner().invoke(
        cli,
        ["demo", "generate", "--accounts", "500", "--attempts", "5000", "--out", str(out),
         "--seed", "3", "--days", "1", "--outage-start", "12:00", "--outage-minutes", "60",
         "--outage-regions", "sa-east", "--outage-devices", "tv,web"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert "day 1/1, file 1/1" in result.stderr
    truth = json.loads((out / "world.json").read_text())
    assert truth["accounts"] == 500
    assert truth["seed"] == 3
    assert truth["outage"] == {
        "start": "2026-03-20T12:00:00+00:00",
        "end": "2026-03-20T13:00:00+00:00",
        "regions": ["sa-east"],
        "devices": ["tv", "web"],
        "failure_rate": 0.82,
    }
    assert (out / "plans.csv").exists()
    assert (out / "accounts.csv").exists()
    bad = CliRunner().invoke(
        cli, ["demo", "generate", "--out", str(out), "--outage-regions", "mars"]
    )
    assert bad.exit_code == 2
    assert "outage regions must be some of" in bad.stderr


def test_demo_keeps_its_options_and_lists_generate() -> None:
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    for text in ("--dir", "--accounts", "--claim-share", "--seed", "generate"):
        assert text in result.stdout
