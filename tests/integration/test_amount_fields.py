"""Every field that takes an amount reads it with the one bounded parser (domain/money.py):
an exponent, a separator, a sign or a huge number is refused at once with the field named
(API 422, console 400, CLI exit 2) and nothing is created."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.settings import get_settings
from makegood.store import tables as t
from makegood.store.tables_web import users
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.factories.staff import api_key, count, seed_draft
from tests.harness.console import form_token, sign_in

HOSTILE_AMOUNTS = ["1e600000", "1e10000000", "1e30", "99999999999999999999", "1_000", "-5"]


def _incident_and_events(container: Container, tmp_path: Path) -> tuple[str, Path]:
    draft = seed_draft(container, created_by="seed", accounts=2)
    start = container.now() - timedelta(hours=23, minutes=30)
    events = write_csv(
        tmp_path / "a.csv",
        ATTEMPT_COLUMNS,
        [attempt(a, start.isoformat()) for a in draft.account_ids],
    )
    return draft.incident_id, events


@pytest.mark.parametrize("amount", HOSTILE_AMOUNTS)
def test_api_refuses_a_hostile_fixed_amount_with_422_and_creates_no_draft(
    client: TestClient, container: Container, tmp_path: Path, amount: str
) -> None:
    incident, events = _incident_and_events(container, tmp_path)
    before = count(container, t.campaigns)
    response = client.post(
        "/api/v1/campaigns",
        headers=api_key(container, "campaigns:write"),
        json={"incident_id": incident, "events": str(events), "fixed": {"USD": amount}},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("fixed USD: ")
    assert count(container, t.campaigns) == before


@pytest.mark.parametrize("percent", ["1e600000", "1e-600000", "3_0"])
def test_api_refuses_a_hostile_percent(
    client: TestClient, container: Container, tmp_path: Path, percent: str
) -> None:
    incident, events = _incident_and_events(container, tmp_path)
    before = count(container, t.campaigns)
    response = client.post(
        "/api/v1/campaigns",
        headers=api_key(container, "campaigns:write"),
        json={"incident_id": incident, "events": str(events), "percent": percent},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("percent: ")
    assert count(container, t.campaigns) == before


def test_console_refuses_a_hostile_fixed_amount(
    client: TestClient, container: Container, tmp_path: Path
) -> None:
    incident, events = _incident_and_events(container, tmp_path)
    sign_in(client, container, "approver")
    page = f"/console/incidents/{incident}"
    before = count(container, t.campaigns)
    response = client.post(
        f"{page}/campaigns",
        data={
            "csrf_token": form_token(client, page),
            "events": str(events),
            "fixed": "USD=1e600000",
            "claim_days": "5",
            "mode": "claim",
        },
    )
    assert response.status_code == 400
    assert "fixed USD:" in response.text
    assert count(container, t.campaigns) == before


@pytest.mark.parametrize("limit", ["USD=1e600000", "USD=1e30", "USD=\u0661\u0660", "USD=-1"])
def test_cli_refuses_a_hostile_grant_limit(
    container: Container, database_url: str, monkeypatch: pytest.MonkeyPatch, limit: str
) -> None:
    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", database_url)
    before = count(container, users)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli, ["user", "add", "agent@example.org", "--role", "agent", "--grant-limit", limit]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "--grant-limit" in result.output
    assert count(container, users) == before
