"""A database that is not at the newest schema (never migrated, or migrated by an older
makegood) stops a command with one line naming the database, without its password, and
`makegood db upgrade`: exit 2, no traceback, nothing changed. So does one that cannot be
reached, with the driver's reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from makegood.cli.main import cli
from makegood.settings import get_settings
from makegood.store.engine import make_engine
from makegood.store.migrate import head_revisions, upgrade
from tests.factories import files as f
from tests.harness.net import free_port
from tests.harness.postgres import BARE_PASSWORD as PASSWORD


def run(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        # catch_exceptions=False: a traceback would fail the test rather than be kept.
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def table_names(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_a_database_never_migrated_is_named_with_what_to_do(
    bare_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = f.write_csv(tmp_path / "plans.csv", f.PLAN_COLUMNS, [f.plan("basic")])
    shown = make_url(bare_database_url).render_as_string(hide_password=True)
    expected = (
        f"error: the database MAKEGOOD_DATABASE_URL={shown} has no makegood tables (it was "
        "never migrated): run `makegood db upgrade`"
    )

    for args in (
        ("campaign", "approve", "cmp_x"),
        ("import", "plans", str(plans)),
        ("report", "cmp_x", "--json"),
        ("user", "list"),
    ):
        result = run(bare_database_url, monkeypatch, *args)

        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.splitlines() == [expected], args
        assert PASSWORD not in result.output
        assert result.stdout == ""
    assert table_names(bare_database_url) == set()


def test_a_database_at_an_older_migration_names_both_revisions(
    bare_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(bare_database_url)
    upgrade(engine, "0008_launch_lean")  # offers have no email_state column yet
    engine.dispose()

    result = run(bare_database_url, monkeypatch, "dispatch")

    assert result.exit_code == 2, result.output
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    (newest,) = head_revisions()  # one head (tests/integration/test_migrations.py)
    assert line.endswith(
        f" is at migration 0008_launch_lean, older than this makegood's {newest}: "
        "run `makegood db upgrade` (it migrates the data in place)"
    )
    assert PASSWORD not in result.output

    assert run(bare_database_url, monkeypatch, "db", "upgrade").exit_code == 0
    assert run(bare_database_url, monkeypatch, "dispatch").exit_code == 0


def test_a_database_that_cannot_be_reached_is_named_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/makegood"
    missing_folder = f"sqlite:///{tmp_path / 'no-such-folder' / 'makegood.db'}"

    for url, why in (
        (closed, "Connection refused"),
        (missing_folder, "unable to open database file"),
    ):
        result = run(url, monkeypatch, "campaign", "approve", "cmp_x")

        assert result.exit_code == 2, result.output
        shown = make_url(url).render_as_string(hide_password=True)
        (line,) = result.stderr.splitlines()
        assert line.startswith(
            f"error: cannot connect to the database MAKEGOOD_DATABASE_URL={shown}: "
        )
        assert why in line
        assert line.endswith("; start or create it, or correct the setting")
        assert PASSWORD not in result.output


def test_a_migration_that_meets_a_missing_table_is_not_told_to_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`db upgrade` itself failing on a missing table (a damaged database): its own error, not
    the advice to run `db upgrade` again."""
    url = f"sqlite:///{tmp_path / 'damaged.db'}"
    engine = make_engine(url, poolclass=sa.NullPool)
    upgrade(engine, "0009_launch_email_on_offer")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE campaign_builds")  # 0010 copies its requests' values
    engine.dispose()

    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code != 0
    assert "run `makegood db upgrade`" not in result.output
    assert isinstance(result.exception, sa.exc.OperationalError)
    assert "campaign_builds" in str(result.exception)
