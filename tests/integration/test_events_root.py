"""The `events` path of the API and the console is confined to MAKEGOOD_EVENTS_ROOT (issue 12,
item 6): symlinks and `..` are resolved, anything outside is refused (the same answer whether it
exists or not), nothing is read when the setting is unset, and errors tell remote callers
neither absolute server paths nor cell values."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.services.build_jobs import run_pending_builds
from makegood.store import tables as t
from makegood.web.app import create_app
from makegood.web.auth import SESSION_COOKIE
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.factories.staff import add_staff, api_key, count, seed_draft, session_cookie
from tests.harness.console import CSRF_FIELD

SECRET_CELL = "SECRET-CELL-7f3a"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "events-root"


def confined(container: Container, root: Path | None) -> Container:
    return replace(container, settings=container.settings.model_copy(update={"events_root": root}))


@pytest.fixture
def world(container: Container, root: Path, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A client of an app confined to `root`, and an incident whose accounts failed."""
    box = confined(container, root)
    draft = seed_draft(box, created_by="seed", accounts=1)
    at = (box.now() - timedelta(hours=23, minutes=30)).isoformat()
    write_csv(root / "logs" / "attempts.csv", ATTEMPT_COLUMNS, [attempt(draft.account_ids[0], at)])
    # Beside the root, where a remote caller must never reach.
    (tmp_path / "outside.json").write_text(json.dumps([{"ts": at, "outcome": "failure"}]))
    with TestClient(create_app(box), follow_redirects=False) as client:
        yield client, draft.incident_id


def post(client: TestClient, container: Container, incident: str, events: str) -> tuple[int, str]:
    response = client.post(
        "/api/v1/campaigns",
        headers=api_key(container, "campaigns:write"),
        json={"incident_id": incident, "events": events, "percent": "3"},
    )
    return response.status_code, response.json().get("detail", "")


def built(
    client: TestClient, container: Container, root: Path, incident: str, events: str
) -> tuple[str, str]:
    """Submit a campaign, let a worker (of the same settings) build it: (state, reason)."""
    response = client.post(
        "/api/v1/campaigns",
        headers=api_key(container, "campaigns:write"),
        json={"incident_id": incident, "events": events, "percent": "3"},
    )
    assert response.status_code == 202, response.text
    assert run_pending_builds(confined(container, root)) == 1
    campaign = client.get(
        f"/api/v1/campaigns/{response.json()['id']}",
        headers=api_key(container, "campaigns:read"),
    ).json()
    return campaign["state"], campaign["build"]["reason"] or ""


def test_paths_inside_the_root_are_read(
    world: tuple[TestClient, str], container: Container, root: Path
) -> None:
    client, incident = world
    for events in ("logs/attempts.csv", "logs", "logs/*.csv", str(root / "logs/attempts.csv")):
        assert built(client, container, root, incident, events) == ("draft", ""), events


@pytest.mark.parametrize(
    "events",
    [
        "../outside.json",
        "logs/../../outside.json",
        "{tmp}/outside.json",
        "{tmp}/no-such-file.json",  # same answer: no probing what exists outside
        "/etc/passwd",
        "../*.json",
        "/**/*.json",
    ],
)
def test_paths_outside_the_root_are_refused_alike(
    world: tuple[TestClient, str], container: Container, tmp_path: Path, events: str
) -> None:
    client, incident = world
    before = count(container, t.campaigns)
    status, detail = post(client, container, incident, events.format(tmp=tmp_path))
    assert status == 422
    assert "outside the events directory" in detail
    assert str(tmp_path) not in detail
    assert count(container, t.campaigns) == before


def test_symlinks_out_of_the_root_are_refused(
    world: tuple[TestClient, str], container: Container, root: Path, tmp_path: Path
) -> None:
    client, incident = world
    (root / "link.json").symlink_to(tmp_path / "outside.json")
    (root / "linked-dir").symlink_to(tmp_path, target_is_directory=True)
    mixed = root / "mixed"
    mixed.mkdir()
    (mixed / "a.json").symlink_to(tmp_path / "outside.json")
    for events in ("link.json", "linked-dir/outside.json", "mixed", "mixed/*.json"):
        status, detail = post(client, container, incident, events)
        assert status == 422, events
        assert "outside the events directory" in detail, events
        assert str(tmp_path) not in detail


def test_errors_name_the_file_relative_to_the_root_without_cell_values(
    world: tuple[TestClient, str], container: Container, root: Path
) -> None:
    client, incident = world
    (root / "no-account.json").write_text(json.dumps([{"ts": SECRET_CELL, "outcome": "failure"}]))
    write_csv(root / "bad-ts.csv", ATTEMPT_COLUMNS, [attempt("acc_1", SECRET_CELL)])
    # The logs are read by the worker that builds the campaign: the build fails with the reason.
    state, first = built(client, container, root, incident, "no-account.json")
    assert state == "failed"
    assert "no-account.json" in first
    assert "account_id" in first
    state, second = built(client, container, root, incident, "bad-ts.csv")
    assert state == "failed"
    assert "bad-ts.csv:2: column ts" in second
    status, missing = post(client, container, incident, "missing.csv")  # checked at once
    assert status == 422
    for text in (first, second, missing):
        assert SECRET_CELL not in text
        assert str(root) not in text


def test_without_the_setting_remote_callers_read_nothing(
    container: Container, tmp_path: Path
) -> None:
    box = confined(container, None)
    draft = seed_draft(box, created_by="seed", accounts=1)
    at = (box.now() - timedelta(hours=23)).isoformat()
    events = write_csv(tmp_path / "a.csv", ATTEMPT_COLUMNS, [attempt(draft.account_ids[0], at)])
    with TestClient(create_app(box), follow_redirects=False) as client:
        status, detail = post(client, box, draft.incident_id, str(events))
        assert status == 422
        assert "MAKEGOOD_EVENTS_ROOT" in detail

        user = add_staff(box, "approver")
        client.cookies.set(
            SESSION_COOKIE, session_cookie(box, user)[SESSION_COOKIE], path="/console"
        )
        page = f"/console/incidents/{draft.incident_id}"
        match = CSRF_FIELD.search(client.get(page).text)
        assert match
        response = client.post(
            f"{page}/campaigns", data={"csrf_token": match.group(1), "events": str(events)}
        )
        assert response.status_code == 400
        assert "MAKEGOOD_EVENTS_ROOT" in response.text
    assert count(box, t.campaigns) == 1  # the seeded draft only
