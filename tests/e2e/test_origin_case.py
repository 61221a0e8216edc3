"""The origin case from the outside, on PostgreSQL: files in, a real SMTP server receives the
e-mail, its link is claimed over HTTP, billing closes, and the statement carries the credit."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from makegood.bootstrap import bootstrap
from makegood.cli.main import cli
from makegood.settings import Settings, get_settings
from makegood.web.app import create_app
from tests.factories import files as f
from tests.harness.http import served
from tests.harness.smtp import Inbox

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
LINK = re.compile(r"(http://[^\s\"<>]+/claim/([A-Za-z0-9_-]{43,}))")


def run(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    get_settings.cache_clear()
    return result


def last_line(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.postgres
def test_files_to_credited_statement_on_postgres(
    pg_database_url: str,
    smtp_inbox: tuple[str, Inbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_url, inbox = smtp_inbox
    now = datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).date()
    start, end = now - timedelta(hours=30), now - timedelta(hours=26)
    plans = f.write_csv(
        tmp_path / "plans.csv", f.PLAN_COLUMNS, [f.plan("std", "9.99", "EUR", name="Standard")]
    )
    accounts = f.write_csv(
        tmp_path / "accounts.csv",
        f.ACCOUNT_COLUMNS,
        [
            f.account("fr-1", "std", locale="fr-FR", next_bill_date=tomorrow.isoformat()),
            f.account("fr-2", "std", locale="fr-FR", next_bill_date=tomorrow.isoformat()),
        ],
    )
    f.write_csv(
        tmp_path / "logs" / "day.csv",
        f.ATTEMPT_COLUMNS,
        [
            f.attempt("fr-1", (start + timedelta(minutes=5)).isoformat(), region="eu-west"),
            f.attempt("fr-1", (start + timedelta(minutes=9)).isoformat(), region="eu-west"),
            f.attempt("fr-2", (start + timedelta(minutes=5)).isoformat(), outcome="success"),
        ],
    )
    public = "http://claims.example.test"
    env = {
        "MAKEGOOD_DATABASE_URL": pg_database_url,
        "MAKEGOOD_SMTP_URL": smtp_url,
        "MAKEGOOD_PUBLIC_URL": public,
    }
    assert run(env, monkeypatch, "db", "upgrade").exit_code == 0
    assert run(env, monkeypatch, "import", "plans", str(plans)).exit_code == 0
    assert run(env, monkeypatch, "import", "accounts", str(accounts)).exit_code == 0
    incident = last_line(
        run(
            env,
            monkeypatch,
            "incident",
            "create",
            "--title",
            "Evening outage",
            "--start",
            start.isoformat(),
            "--end",
            end.isoformat(),
            "--region",
            "eu-west",
        )
    )
    campaign = last_line(
        run(env, monkeypatch, "campaign", "create", incident, "--events", str(tmp_path / "logs"))
    )
    preview = json.loads(run(env, monkeypatch, "campaign", "preview", campaign, "--json").stdout)
    assert preview["eligible"] == 1
    assert preview["liability"] == {"EUR": "0.30"}
    assert run(env, monkeypatch, "campaign", "approve", campaign).exit_code == 0
    assert run(env, monkeypatch, "campaign", "launch", campaign).exit_code == 0
    assert run(env, monkeypatch, "dispatch").exit_code == 0

    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["fr-1@example.com"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    plain = text.get_content()
    assert "0,30\u00a0€" in plain or "0,30 €" in plain
    link, token = LINK.search(plain).groups()  # type: ignore[union-attr]
    assert link.startswith(f"{public}/claim/")
    assert token in html.get_content()

    settings = Settings(database_url=pg_database_url, public_url=public)
    container = bootstrap(settings)
    try:
        with served(create_app(container)) as (base, _log), httpx.Client() as client:
            page = client.get(f"{base}/claim/{token}")
            assert page.status_code == 200
            csrf = CSRF.search(page.text)
            assert csrf is not None
            answer = client.post(f"{base}/claim/{token}", data={"csrf_token": csrf.group(1)})
            assert answer.status_code in (200, 303)
    finally:
        container.engine.dispose()

    assert (
        run(env, monkeypatch, "billing", "close", "--through", tomorrow.isoformat()).exit_code == 0
    )
    statements = json.loads(run(env, monkeypatch, "statement", "fr-1", "--json").stdout)
    assert len(statements) == 1
    assert statements[0]["date"] == tomorrow.isoformat()
    assert statements[0]["currency"] == "EUR"
    credit_lines = [line for line in statements[0]["lines"] if line["kind"] == "credit"]
    assert [(line["amount"], line["campaign"]) for line in credit_lines] == [("-0.30", campaign)]
    assert statements[0]["total"] == "9.69"
    # The account that was not affected is billed with no credit.
    other = json.loads(run(env, monkeypatch, "statement", "fr-2", "--json").stdout)
    assert [line["kind"] for line in other[0]["lines"]] == ["charge"]

    report = json.loads(run(env, monkeypatch, "report", campaign, "--json").stdout)
    assert (report["offered"], report["notified"], report["claimed"], report["applied"]) == (
        1,
        1,
        1,
        1,
    )
    assert report["applied_amount"] == {"EUR": "0.30"}
    assert date.fromisoformat(statements[0]["date"]) > now.date()
