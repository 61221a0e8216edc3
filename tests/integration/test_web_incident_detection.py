"""The incident page draws the detection an incident was declared from (inline SVG and a data
table), and says "no telemetry analysed" for an incident declared by hand."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.cli import data_cmds
from makegood.services.detections import MAX_BUCKETS, get_detection
from makegood.telemetry.demo_world import World, generate_world
from makegood.telemetry.detect import DetectionRule
from makegood.telemetry.detect_duckdb import detect_duckdb
from makegood.web.app import create_app
from makegood.web.auth import SESSION_COOKIE
from tests.factories.staff import add_staff, seed_draft, session_cookie


@click.group()
def cli() -> None:
    """The command under test."""


data_cmds.register(cli)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return generate_world(
        tmp_path_factory.mktemp("world"), accounts=3_000, days=2, attempts=120_000
    )


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), follow_redirects=False) as client:
        raw = session_cookie(container, add_staff(container, "viewer"))[SESSION_COOKIE]
        client.cookies.set(SESSION_COOKIE, raw, path="/console")
        yield client


def declare(container: Container, world: World) -> str:
    """`makegood incident create --from-detection 1` as an operator would run it."""
    result = CliRunner().invoke(
        cli,
        [
            "incident", "create", "--from-detection", "1", "--events", str(world.attempts_dir),
            "--by", "region", "--bucket", "5m",
        ],
        obj=container,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def test_a_detected_incident_shows_its_chart_and_table(
    client: TestClient, container: Container, world: World
) -> None:
    incident_id = declare(container, world)
    detection = detect_duckdb(str(world.attempts_dir), DetectionRule(300), ["region"], "5m")
    [window] = detection.windows
    with container.uow() as uow:
        record = get_detection(uow, incident_id)
    assert record is not None
    assert (record.window_start, record.window_end) == (window.start, window.end)
    # Only the window's segments, the window itself and context either side, bounded.
    assert {p.segment for p in record.points} == set(window.segments)
    assert min(p.start for p in record.points) < window.start
    assert max(p.start for p in record.points) >= window.end
    assert len({p.start for p in record.points}) <= MAX_BUCKETS
    inside = [p for p in record.points if window.start <= p.start < window.end]
    assert sum(p.failures for p in inside) == window.failed_attempts
    # The stored baselines are the rule's: weighted by attempts they give the window's own.
    weighted = sum(p.attempts * p.baseline for p in inside) / sum(p.attempts for p in inside)
    assert weighted == pytest.approx(window.baseline_failure_ratio, abs=1e-5)

    page = client.get(f"/console/incidents/{incident_id}")
    assert page.status_code == 200
    html = page.text
    assert "No telemetry analysed" not in html
    svg = re.search(r"<svg[^>]*aria-labelledby=\"det-t det-d\".*?</svg>", html, re.S)
    assert svg is not None
    assert 'class="window"' in svg.group(0)
    assert svg.group(0).count('class="ratio"') == len(window.segments)
    for region in world.outage_regions:
        assert region in svg.group(0)
    assert "<script" not in html
    # The data table: one row per stored bucket, the window's rows marked.
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr>") == len(record.points)
    assert body.count("<td>yes</td>") == len(inside)


def test_an_incident_declared_by_hand_says_no_telemetry_was_analysed(
    client: TestClient, container: Container, tmp_path: Path
) -> None:
    draft = seed_draft(container, created_by="ops@care.example.com")
    html = client.get(f"/console/incidents/{draft.incident_id}").text
    assert "No telemetry analysed" in html
    assert "det-t" not in html
