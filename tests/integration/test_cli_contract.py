"""The command-line contract: ids on the last line of stdout, one JSON document with --json,
human text on stderr, exit codes that say what happened, and bad input that changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from makegood.cli.main import cli
from makegood.settings import get_settings
from makegood.store import tables as t
from makegood.store.engine import make_engine
from tests.factories import files as f

Run = Callable[..., Result]


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


def count(database_url: str, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(table).where(*where)
            return conn.execute(query).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def draft(run: Run, tmp_path: Path) -> str:
    """An imported world and a draft campaign; returns the campaign id."""
    plans = f.write_csv(tmp_path / "plans.csv", f.PLAN_COLUMNS, [f.plan("basic")])
    accounts = f.write_csv(
        tmp_path / "accounts.csv", f.ACCOUNT_COLUMNS, [f.account("a1"), f.account("a2")]
    )
    events = f.write_csv(
        tmp_path / "attempts.csv",
        f.ATTEMPT_COLUMNS,
        [f.attempt("a1", "2026-03-22T20:30:00Z"), f.attempt("a2", "2026-03-22T20:31:00+00:00")],
    )
    assert run("import", "plans", str(plans)).exit_code == 0
    assert run("import", "accounts", str(accounts)).exit_code == 0
    created = run(
        "incident", "create", "--title", "Outage",
        "--start", "2026-03-22T20:00:00Z", "--end", "2026-03-22T22:00:00Z",
    )  # fmt: skip
    incident_id = created.stdout.strip()
    campaign = run(
        "campaign", "create", incident_id, "--events", str(events), "--pay-within-days", "30",
        "--appeal-days", "14",
    )  # fmt: skip
    assert campaign.exit_code == 0, campaign.output
    return campaign.stdout.strip().splitlines()[-1]


def test_campaign_create_says_the_stored_snapshots_counts(run: Run, tmp_path: Path) -> None:
    # The counts come from the build itself (no read of the snapshot after it): they must
    # still be the stored snapshot's, exclusions included.
    plans = f.write_csv(tmp_path / "plans.csv", f.PLAN_COLUMNS, [f.plan("basic")])
    accounts = f.write_csv(
        tmp_path / "accounts.csv",
        f.ACCOUNT_COLUMNS,
        [f.account("a1"), f.account("a2"), f.account("a3", status="cancelled")],
    )
    events = f.write_csv(
        tmp_path / "attempts.csv",
        f.ATTEMPT_COLUMNS,
        [f.attempt(a, "2026-03-22T20:30:00Z") for a in ("a1", "a2", "a3", "nobody")],
    )
    assert run("import", "plans", str(plans)).exit_code == 0
    assert run("import", "accounts", str(accounts)).exit_code == 0
    incident_id = run(
        "incident", "create", "--title", "Outage",
        "--start", "2026-03-22T20:00:00Z", "--end", "2026-03-22T22:00:00Z",
    ).stdout.strip()  # fmt: skip
    created = run("campaign", "create", incident_id, "--events", str(events))
    assert created.exit_code == 0, created.output
    campaign_id = created.stdout.strip().splitlines()[-1]
    assert created.stderr.strip().splitlines()[-1] == (
        f"draft campaign: 4 affected, 2 eligible; see `makegood campaign preview {campaign_id}`"
    )
    data = json.loads(run("campaign", "preview", campaign_id, "--json").stdout)
    assert (data["affected"], data["eligible"]) == (4, 2)
    assert data["excluded"]["unknown_account"] == 1
    assert data["excluded"]["not_active"] == 1


def test_create_commands_print_only_the_id(run: Run, draft: str) -> None:
    created = run(
        "incident", "create", "--title", "Second", "--start", "2026-03-23T00:00:00+05:30",
        "--end", "2026-03-23T02:00:00+05:30", "--region", "eu-west",
    )  # fmt: skip
    assert created.exit_code == 0
    lines = created.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("inc_")
    assert " " not in lines[0]
    assert "2026-03-22T18:30:00+00:00" in created.stderr  # shown in UTC with its offset
    assert draft.startswith("cmp_")


def test_preview_json_is_one_document(run: Run, draft: str) -> None:
    result = run("campaign", "preview", draft, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["eligible"] == 2
    assert data["appeal_days"] == 14  # --appeal-days reached the campaign
    report = json.loads(run("report", draft, "--json").stdout)
    assert report["pay_within_days"] == 30  # --pay-within-days reached the campaign
    assert report["unapplied_overdue"] == 0
    assert data["liability"] == {"USD": "0.48"}
    assert set(data["excluded"]) >= {
        "unknown_account",
        "not_active",
        "plan_not_eligible",
        "no_amount_for_currency",
        "zero_amount",
    }


def test_launching_a_draft_says_why_and_changes_nothing(
    run: Run, draft: str, database_url: str
) -> None:
    result = run("campaign", "launch", draft)
    assert result.exit_code == 4
    assert "approve it first" in result.stderr
    assert result.stdout == ""
    assert count(database_url, t.offers) == 0


def test_launch_twice_issues_nothing_new_and_exits_zero(
    run: Run, draft: str, database_url: str
) -> None:
    assert run("campaign", "approve", draft).exit_code == 0
    first = run("campaign", "launch", draft)
    assert first.exit_code == 0
    assert "2 offers" in first.stderr
    again = run("campaign", "launch", draft)
    assert again.exit_code == 0
    assert "nothing new" in again.stderr
    assert count(database_url, t.offers) == 2
    # The e-mails and in-app messages live on the offers until the outbox takes the e-mails.
    assert count(database_url, t.messages) == 0
    assert count(database_url, t.offers, t.offers.c.email_state == "pending") == 2
    assert count(database_url, t.offers, t.offers.c.inapp_state == "unread") == 2


def test_report_json_has_the_contract_fields(run: Run, draft: str) -> None:
    run("campaign", "approve", draft)
    run("campaign", "launch", draft)
    assert run("dispatch").exit_code == 0
    data = json.loads(run("report", draft, "--json").stdout)
    for key in ("affected", "offered", "notified", "claimed", "applied", "claim_rate"):
        assert key in data
    assert (data["affected"], data["offered"], data["notified"]) == (2, 2, 2)
    assert data["liability"] == {"USD": "0.48"}
    assert data["claimed_amount"] == {}


def test_bad_accounts_file_lists_rows_and_changes_nothing(
    run: Run, draft: str, tmp_path: Path, database_url: str
) -> None:
    before = count(database_url, t.accounts)
    bad = f.write_csv(
        tmp_path / "bad.csv",
        f.ACCOUNT_COLUMNS,
        [f.account("n1", plan_id="gold"), f.account("n2", next_bill_date="tomorrow")],
    )
    result = run("import", "accounts", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: column plan_id: unknown plan 'gold'" in result.stderr
    assert f"{bad}:3: column next_bill_date:" in result.stderr
    assert result.stdout == ""
    assert count(database_url, t.accounts) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--percent", "3", "--fixed", "USD=1"], "either --percent or --fixed"),
        (["--fixed", "USD=abc"], "--fixed"),
        (["--fixed", "USD=1e600000"], "--fixed USD: '1e600000' is not a decimal amount"),
        (["--fixed", "USD=1" + "0" * 20], "--fixed USD:"),
        (["--percent", "1e600000"], "--percent:"),
        (["--fixed", "XXX=1"], "unknown currency"),
        (["--percent", "0"], "percent"),
        (["--claim-days", "0"], "--claim-days"),
        (["--pay-within-days", "0"], "--pay-within-days"),
        (["--appeal-days", "0"], "--appeal-days"),
    ],
)
def test_bad_policy_options_are_refused(
    run: Run, draft: str, tmp_path: Path, database_url: str, args: list[str], message: str
) -> None:
    before = count(database_url, t.campaigns)
    incident = run(
        "incident", "create", "--title", "X", "--start", "2026-03-22T20:00:00Z",
        "--end", "2026-03-22T21:00:00Z",
    ).stdout.strip()  # fmt: skip
    result = run("campaign", "create", incident, "--events", str(tmp_path / "attempts.csv"), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert count(database_url, t.campaigns) == before


def test_unknown_ids_exit_3(run: Run, draft: str) -> None:
    for args in (["campaign", "preview", "cmp_nope"], ["report", "cmp_nope"]):
        result = run(*args)
        assert result.exit_code == 3
        assert "cmp_nope" in result.stderr


def test_incident_window_must_be_valid(run: Run, draft: str) -> None:
    bad_time = run("incident", "create", "--title", "T", "--start", "yesterday", "--end", "now")
    assert bad_time.exit_code == 2
    assert "--start" in bad_time.stderr
    backwards = run(
        "incident", "create", "--title", "T", "--start", "2026-03-22T22:00:00Z",
        "--end", "2026-03-22T20:00:00Z",
    )  # fmt: skip
    assert backwards.exit_code == 2


def test_settings_in_error_are_named_without_their_values(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAKEGOOD_SMTP_CONNECTIONS", "four")
    monkeypatch.setenv("MAKEGOOD_BOUNCE_ADDRESS", "bounces at example dot com")

    wrong_type = run("worker", "--once")

    assert wrong_type.exit_code == 2
    assert wrong_type.stderr.startswith("error: MAKEGOOD_SMTP_CONNECTIONS: ")
    assert "four" not in wrong_type.stderr
    assert "Traceback" not in wrong_type.stderr

    monkeypatch.delenv("MAKEGOOD_SMTP_CONNECTIONS")
    no_envelope = run("dispatch")

    assert no_envelope.exit_code == 2
    assert no_envelope.stderr.startswith("error: MAKEGOOD_BOUNCE_ADDRESS must hold a plain")
    assert "example dot com" not in no_envelope.stderr
