"""Policy files through the CLI and policy documents through the API, on SQLite and PostgreSQL:
tiers, pro rata, floor and cap as docs/policies.md computes them; preview's tiers and amounts;
a bad policy names file, line and key (or the field path) and creates nothing."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.services.billing_close import close_through
from makegood.services.build_jobs import run_pending_builds
from makegood.settings import get_settings
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.tables_billing import credit_states
from tests.factories import files as f
from tests.factories.staff import api_key
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

Run = Callable[..., Result]

# Incident 20:00-22:00 UTC on 22 March (31 days). Plan 7.99 USD.
# a-short: 10 minutes (20:30, success 20:40): tier 0, 10 % = 0.80.
# a-long: 90 minutes (20:30 to the end): tier 1, 7.99 x 1 day / 31 = 0.26, floor 0.50.
# a-brief: 1 minute (21:59:30): below every tier.
# a-gone: cancelled at 21:00, after the start: counts as active with status_at = "incident".
POLICY = """\
measure = "impact_minutes"
[[tier]]
at_least = 5
percent = 10
[[tier]]
at_least = 60
prorata = { unit = "day", of = "impact" }

[cap]
amounts = { USD = "1.00" }
[floor]
amounts = { USD = "0.50" }

[eligibility]
status_at = "incident"
"""


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", database_url)
    monkeypatch.setenv("MAKEGOOD_MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.delenv("MAKEGOOD_SMTP_URL", raising=False)

    def invoke(*args: str) -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli, list(args), catch_exceptions=False)
        finally:
            get_settings.cache_clear()

    return invoke


def campaigns(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(t.campaigns)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def world(run: Run, tmp_path: Path) -> tuple[str, Path]:
    """Imported plans and accounts, an incident and its attempts: (incident id, events)."""
    plans = f.write_csv(tmp_path / "plans.csv", f.PLAN_COLUMNS, [f.plan("basic")])
    rows = [f.account(a) for a in ("a-short", "a-long", "a-brief")]
    gone = f.account("a-gone", status="cancelled")
    columns = [*f.ACCOUNT_COLUMNS, "cancelled_at"]
    rows = [{**r, "cancelled_at": ""} for r in rows]
    rows.append({**gone, "cancelled_at": "2026-03-22T22:00:00+01:00"})  # 21:00 UTC
    accounts = f.write_csv(tmp_path / "accounts.csv", columns, rows)
    events = f.write_csv(
        tmp_path / "attempts.csv",
        f.ATTEMPT_COLUMNS,
        [
            f.attempt("a-short", "2026-03-22T20:30:00Z"),
            f.attempt("a-short", "2026-03-22T20:40:00Z", outcome="success"),
            f.attempt("a-long", "2026-03-22T20:30:00Z"),
            f.attempt("a-brief", "2026-03-22T21:59:30Z"),
            f.attempt("a-gone", "2026-03-22T20:30:00Z"),
        ],
    )
    assert run("import", "plans", str(plans)).exit_code == 0
    imported = run("import", "accounts", str(accounts))
    assert imported.exit_code == 0, imported.output
    incident = run(
        "incident", "create", "--title", "Outage",
        "--start", "2026-03-22T20:00:00Z", "--end", "2026-03-22T22:00:00Z",
    ).stdout.strip()  # fmt: skip
    return incident, events


def test_a_policy_file_grades_the_credit(run: Run, world: tuple[str, Path], tmp_path: Path) -> None:
    incident, events = world
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    created = run("campaign", "create", incident, "--events", str(events), "--policy", str(policy))
    assert created.exit_code == 0, created.output
    campaign = created.stdout.strip().splitlines()[-1]
    data = json.loads(run("campaign", "preview", campaign, "--json").stdout)
    assert data["eligible"] == 3
    assert data["excluded"]["below_threshold"] == 1
    assert data["excluded"]["not_active"] == 0
    assert data["liability"] == {"USD": "1.80"}
    assert data["tiers"] == [
        {"at_least": 5, "eligible": 1, "liability": {"USD": "0.80"}},
        {"at_least": 60, "eligible": 2, "liability": {"USD": "1.00"}},
    ]
    assert data["amounts"] == {"USD": {"0.50": 2, "0.80": 1}}
    assert data["policy"]["tier"][1] == {"at_least": 60, "prorata": {"unit": "day", "of": "impact"}}
    assert data["policy"]["eligibility"] == {"status_at": "incident"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("percent = 10", "percent = 101", "policy.toml:4: key tier[0].percent:"),
        ('of = "impact"', 'of = "impakt"', "policy.toml:7: key tier[1].prorata.of:"),
        ("[floor]", "[flor]", "policy.toml:11: key flor: unknown key"),
        ('USD = "0.50"', 'USD = "10000.01"', "policy.toml:12: key floor.amounts.USD:"),
    ],
)
def test_a_bad_policy_file_names_line_and_key_and_creates_nothing(
    run: Run,
    world: tuple[str, Path],
    tmp_path: Path,
    database_url: str,
    old: str,
    new: str,
    message: str,
) -> None:
    incident, events = world
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.replace(old, new), encoding="utf-8")
    before = campaigns(database_url)
    result = run("campaign", "create", incident, "--events", str(events), "--policy", str(policy))
    assert result.exit_code == 2
    assert message in result.stderr
    assert campaigns(database_url) == before


def test_policy_and_shortcuts_are_exclusive(
    run: Run, world: tuple[str, Path], tmp_path: Path, database_url: str
) -> None:
    incident, events = world
    policy = tmp_path / "policy.toml"
    policy.write_text("percent = 3\n", encoding="utf-8")
    for extra in (["--percent", "3"], ["--fixed", "USD=1"]):
        result = run(
            "campaign", "create", incident, "--events", str(events), "--policy", str(policy), *extra
        )
        assert result.exit_code == 2
        assert "--policy" in result.stderr
    missing = run("campaign", "create", incident, "--events", str(events), "--policy", "nope.toml")
    assert missing.exit_code == 2
    assert "nope.toml" in missing.stderr
    policy.write_text('percent = 3\n[eligibility]\nplans = ["gold"]\n', encoding="utf-8")
    args = ("campaign", "create", incident, "--events", str(events), "--policy", str(policy))
    unknown = run(*args)
    assert unknown.exit_code == 2
    assert "unknown plan(s) gold" in unknown.stderr
    twice = run(*args, "--plan", "basic")
    assert twice.exit_code == 2
    assert "not both" in twice.stderr
    assert campaigns(database_url) == 0


def test_the_api_takes_the_same_document(
    run: Run, world: tuple[str, Path], client: TestClient, container: Container
) -> None:
    incident, events = world
    key = api_key(container)
    document = {
        "measure": "impact_minutes",
        "tier": [
            {"at_least": 5, "percent": 10},
            {"at_least": 60, "prorata": {"unit": "day", "of": "impact"}},
        ],
        "cap": {"amounts": {"USD": "1.00"}},
        "floor": {"amounts": {"USD": "0.50"}},
    }
    body = {"incident_id": incident, "events": str(events), "policy": document}
    response = client.post("/api/v1/campaigns", headers=key, json=body)
    assert response.status_code == 202, response.text
    campaign = response.json()
    assert campaign["policy"]["tier"][0] == {"at_least": 5, "percent": "10"}
    assert run_pending_builds(container) == 1  # the worker builds it, with the same policy
    preview = client.get(f"/api/v1/campaigns/{campaign['id']}/preview", headers=key).json()
    # Status as of the launch (the default): the cancelled account is not active.
    assert preview["excluded"]["not_active"] == 1
    assert preview["amounts"] == {"USD": {"0.50": 1, "0.80": 1}}
    assert [t["eligible"] for t in preview["tiers"]] == [1, 1]

    bad = {**document, "tier": [{"at_least": 5, "percent": "3x"}]}
    refused = client.post("/api/v1/campaigns", headers=key, json={**body, "policy": bad})
    assert refused.status_code == 422
    assert "policy.tier[0].percent" in refused.text
    both = client.post("/api/v1/campaigns", headers=key, json={**body, "percent": "3"})
    assert both.status_code == 422
    assert "policy" in both.text


def test_the_console_form_takes_a_policy_and_shows_tiers_and_amounts(
    run: Run, world: tuple[str, Path], client: TestClient, container: Container, tmp_path: Path
) -> None:
    from tests.harness.console import form_token, sign_in
    from tests.harness.html_check import nu_messages

    incident, events = world
    sign_in(client, container, "approver")
    page = f"/console/incidents/{incident}"
    form = {"csrf_token": form_token(client, page), "events": str(events), "mode": "claim"}
    bad = client.post(
        f"{page}/campaigns",
        data={**form, "policy": POLICY.replace("percent = 10", 'percent = "x"')},
    )
    assert bad.status_code == 400  # the console answers bad input with 400, as elsewhere
    assert "policy:4: key tier[0].percent" in bad.text
    nul = client.post(f"{page}/campaigns", data={**form, "policy": POLICY + "\x00"})
    assert nul.status_code == 422  # line breaks pass the request edge, other controls do not
    created = client.post(f"{page}/campaigns", data={**form, "policy": POLICY})
    assert created.status_code == 303, created.text
    assert run_pending_builds(container) == 1
    html = client.get(created.headers["location"]).text
    assert '<h2 id="amounts-h">Amounts</h2>' in html
    assert "<tr><td>60</td><td>2</td><td>1.00 USD </td></tr>" in html
    assert "<tr><td>0.50</td><td>2</td></tr>" in html
    assert 'role="img"' in html  # the histogram, described for screen readers
    assert "&#34;status_at&#34;: &#34;incident&#34;" in html or '"status_at": "incident"' in html
    pages = {"campaign-policy": html, "incident-form": client.get(page).text}
    assert nu_messages(pages, tmp_path) == []  # valid HTML, every section headed


@pytest.mark.parametrize(("inactive", "state"), [("hold", "held"), ("forfeit", "forfeited")])
def test_a_subscriber_cancelled_after_the_outage_gets_a_credit_billing_settles(
    run: Run,
    world: tuple[str, Path],
    tmp_path: Path,
    database_url: str,
    clock: FrozenClock,
    inactive: str,
    state: str,
) -> None:
    """status_at = "incident": the account cancelled after the outage began is offered (here
    granted) a credit, which then follows billing's inactive-account policy."""
    incident, events = world
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    created = run(
        "campaign", "create", incident, "--events", str(events), "--policy", str(policy),
        "--mode", "auto",
    )  # fmt: skip
    campaign = created.stdout.strip().splitlines()[-1]
    assert run("campaign", "approve", campaign).exit_code == 0
    assert run("campaign", "launch", campaign).exit_code == 0
    settings = make_settings(database_url, tmp_path, billing_inactive_policy=inactive)
    container = Container(settings, make_engine(database_url), clock)
    try:
        with container.uow() as uow:
            query = sa.select(t.credits.c.account_id, t.credits.c.amount_minor)
            granted = {r.account_id: r.amount_minor for r in uow.conn.execute(query)}
        assert granted == {"a-short": 80, "a-long": 50, "a-gone": 50}
        close_through(container, date(2026, 4, 1))
        with container.uow() as uow:
            query = sa.select(t.credits.c.account_id, credit_states.c.state).join(
                credit_states, credit_states.c.credit_id == t.credits.c.id
            )
            states = {r.account_id: r.state for r in uow.conn.execute(query)}
        assert states == {"a-gone": state}
    finally:
        container.engine.dispose()
