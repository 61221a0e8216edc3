"""`makegood detect` and `incident create --from-detection` on generated worlds (DuckDB)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import Result

from makegood.cli import data_cmds, telemetry_cmds
from makegood.store.engine import make_engine
from makegood.store.tables import incidents
from makegood.telemetry.demo_world import BACKGROUND_FAILURE_RATE, Outage, World, generate_world
from makegood.telemetry.detect import DetectionRule, Window
from makegood.telemetry.detect_duckdb import detect_duckdb
from tests.harness.cli import invoke


@click.group()
def cli() -> None:
    """The commands under test."""


telemetry_cmds.register(cli)
data_cmds.register(cli)


def small_world(out: Path, days: int = 3, outage: Outage | None = None) -> World:
    return generate_world(out, accounts=10_000, days=days, attempts=120_000 * days, outage=outage)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return small_world(tmp_path_factory.mktemp("world"))


def run(*args: str) -> Result:
    return invoke(cli, *args)


def regions_of(window: Window) -> list[str]:
    """The regions of a window detected by region, sorted (a world's regions are never missing)."""
    regions = []
    for segment in window.segments:
        region = segment[0]
        assert region is not None
        regions.append(region)
    return sorted(regions)


@pytest.mark.parametrize(("bucket", "seconds"), [("1m", 60), ("5m", 300)])
def test_the_outage_is_found_within_a_bucket_and_in_its_regions(
    world: World, bucket: str, seconds: int
) -> None:
    rule = DetectionRule(bucket_seconds=seconds)
    detection = detect_duckdb(str(world.attempts_dir), rule, ["region"], bucket)
    [window] = detection.windows
    step = timedelta(seconds=seconds)
    assert abs(window.start - world.outage_starts_at) <= step
    assert abs(window.end - world.outage_ends_at) <= step
    assert regions_of(window) == sorted(world.outage_regions)
    assert window.peak_failure_ratio > 0.7
    assert window.baseline_failure_ratio < 0.02
    assert 0 < window.accounts_touched <= window.failed_attempts <= window.attempts  # type: ignore[operator]


def test_one_day_of_data_compares_with_the_quiet_period(tmp_path: Path) -> None:
    one_day = small_world(tmp_path / "one", days=1)
    detection = detect_duckdb(str(one_day.attempts_dir), DetectionRule(300), ["region"], "5m")
    [window] = detection.windows
    assert abs(window.start - one_day.outage_starts_at) <= timedelta(minutes=5)
    assert abs(window.end - one_day.outage_ends_at) <= timedelta(minutes=5)
    assert regions_of(window) == sorted(one_day.outage_regions)


def test_a_flat_world_proposes_nothing(tmp_path: Path) -> None:
    flat = small_world(tmp_path / "flat", outage=Outage(failure_rate=BACKGROUND_FAILURE_RATE))
    for by in ([], ["region"], ["region", "device"]):
        assert detect_duckdb(str(flat.attempts_dir), DetectionRule(60), by, "1m").windows == []


def test_an_outage_on_some_devices_is_found_on_those_devices(tmp_path: Path) -> None:
    outage = Outage(regions=("us-east", "us-west"), devices=("tv",))
    tv = small_world(tmp_path / "tv", outage=outage)
    by = ["region", "device"]
    [window] = detect_duckdb(str(tv.attempts_dir), DetectionRule(300), by, "5m").windows
    assert window.segments == (("us-east", "tv"), ("us-west", "tv"))
    assert abs(window.start - tv.outage_starts_at) <= timedelta(minutes=5)
    assert abs(window.end - tv.outage_ends_at) <= timedelta(minutes=5)


def test_detect_json_is_one_document_with_the_window_fields(world: World) -> None:
    result = run("detect", "--events", str(world.attempts_dir), "--by", "region", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["bucket"] == "1m"
    assert document["by"] == ["region"]
    [window] = document["windows"]
    assert list(window) == [
        "index",
        "start",
        "end",
        "segments",
        "peak_failure_ratio",
        "baseline_failure_ratio",
        "attempts",
        "failed_attempts",
        "accounts_touched",
    ]
    assert window["index"] == 1
    assert window["start"].endswith("+00:00")
    assert window["segments"] == [{"region": r} for r in sorted(world.outage_regions)]
    assert "counting attempts per 1m bucket and region" in result.stderr


def test_detect_prints_a_table_or_says_there_is_nothing(world: World, tmp_path: Path) -> None:
    result = run("detect", "--events", str(world.attempts_dir), "--by", "region", "--bucket", "5m")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["#", "start", "end"]
    assert lines[1].split()[0] == "1"
    assert ", ".join(sorted(world.outage_regions)) in lines[1]
    flat = small_world(tmp_path / "flat", days=1, outage=Outage(failure_rate=0.006))
    result = run("detect", "--events", str(flat.attempts_dir))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "no outage window proposed" in result.stderr


@pytest.mark.parametrize("name", ["detection.png", "detection.svg"])
def test_plot_writes_a_valid_picture(world: World, tmp_path: Path, name: str) -> None:
    out = tmp_path / "pictures" / name
    args = ["detect", "--events", str(world.attempts_dir), "--by", "region", "--bucket", "5m"]
    result = run(*args, "--plot", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)  # --plot keeps standard output one JSON document
    data = out.read_bytes()
    if name.endswith(".png"):
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert 10_000 < len(data) < 300_000
    else:
        assert ET.fromstring(data).tag  # noqa: S314 - the test's own file == "{http://www.w3.org/2000/svg}svg"
    assert not list(out.parent.glob(".*partial*"))


def test_bad_detect_options_exit_2(world: World, tmp_path: Path) -> None:
    events = str(world.attempts_dir)
    for args, message in [
        (["--bucket", "7m"], "--bucket '7m'"),
        (["--by", "planet"], "--by 'planet'"),
        (["--plot", str(tmp_path / "x.gif")], "png or .svg"),
    ]:
        result = run("detect", "--events", events, *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert message in result.stderr


def test_incident_from_detection_declares_that_window_and_scope(db: str, world: World) -> None:
    events = str(world.attempts_dir)
    found = run("detect", "--events", events, "--by", "region,device", "--bucket", "5m", "--json")
    [window] = json.loads(found.stdout)["windows"]
    result = run(
        "incident", "create", "--from-detection", "1", "--events", events,
        "--by", "region,device", "--bucket", "5m",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    incident_id = result.stdout.strip().splitlines()[-1]
    engine = make_engine(db)
    with engine.connect() as conn:
        row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).one()
    engine.dispose()
    assert row.starts_at.isoformat() == window["start"]
    assert row.ends_at.isoformat() == window["end"]
    assert sorted(row.regions) == sorted(world.outage_regions)
    assert sorted(row.devices) == sorted({s["device"] for s in window["segments"]})
    assert row.title.startswith("Playback outage (")


def test_incident_from_detection_refuses_a_window_it_did_not_propose(db: str, world: World) -> None:
    events = str(world.attempts_dir)
    result = run("incident", "create", "--from-detection", "2", "--events", events)
    assert result.exit_code == 3
    assert "detection proposed 1 window(s)" in result.stderr
    assert run("incident", "create", "--from-detection", "1").exit_code == 2
    plain = run("incident", "create", "--title", "T", "--start", "2026-03-21T18:00:00Z")
    assert plain.exit_code == 2
    assert "give --end" in plain.stderr
    engine = make_engine(db)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(incidents)).scalar() == 0
    engine.dispose()
