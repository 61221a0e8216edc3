"""`makegood serve` and `makegood worker` run for days, so they ask the database at start which
migration it is at (a command does not: its start-up stays short). Never migrated, or behind
the newest migration, they refuse to start with the line a command gives when it meets a
missing table, exit 2; one that cannot be reached is named as a command names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from makegood.cli.main import cli
from makegood.settings import get_settings
from makegood.store.engine import make_engine
from makegood.store.migrate import head_revisions, upgrade
from tests.harness.net import free_port
from tests.harness.postgres import BARE_PASSWORD as PASSWORD

NEVER = "has no makegood tables (it was never migrated): run `makegood db upgrade`"


def behind(revision: str) -> str:
    (newest,) = head_revisions()  # one head (tests/integration/test_migrations.py)
    return (
        f"is at migration {revision}, older than this makegood's {newest}: "
        "run `makegood db upgrade` (it migrates the data in place)"
    )


def serve(url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`makegood serve` on `url`; a server that starts is stopped and fails the test."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MAKEGOOD_")}
    environment["MAKEGOOD_DATABASE_URL"] = url
    environment["MAKEGOOD_MAIL_DIR"] = str(tmp_path / "mail")
    command = [sys.executable, "-m", "makegood", "serve", "--port", str(free_port())]
    try:
        return subprocess.run(
            command, check=False, env=environment, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the server started on a database that is not at the newest migration")


def at(url: str, revision: str) -> str:
    engine = make_engine(url)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    return url


def test_serve_refuses_a_database_never_migrated_or_behind(
    bare_database_url: str, tmp_path: Path
) -> None:
    shown = make_url(bare_database_url).render_as_string(hide_password=True)

    never = serve(bare_database_url, tmp_path)
    # 0009 lacks only campaigns.min_failures: no claim page would fail, an appeal would.
    old = serve(at(bare_database_url, "0009_launch_email_on_offer"), tmp_path)

    for result, why in ((never, NEVER), (old, behind("0009_launch_email_on_offer"))):
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            f"error: the database MAKEGOOD_DATABASE_URL={shown} {why}"
        ]
        assert result.stdout == ""
        assert PASSWORD not in result.stderr


def test_serve_refuses_a_database_that_cannot_be_reached(tmp_path: Path) -> None:
    closed = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/makegood"

    result = serve(closed, tmp_path)

    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    shown = make_url(closed).render_as_string(hide_password=True)
    assert line.startswith(f"error: cannot connect to the database MAKEGOOD_DATABASE_URL={shown}: ")
    assert PASSWORD not in result.stderr


def test_worker_refuses_a_database_behind_before_its_first_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = at(f"sqlite:///{tmp_path / 'old.db'}", "0009_launch_email_on_offer")
    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", url)
    monkeypatch.setenv("MAKEGOOD_MAIL_DIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    try:
        # Nothing is pending: before the check, the worker drained nothing and stopped, exit 0.
        result = CliRunner().invoke(cli, ["worker", "--once"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: the database MAKEGOOD_DATABASE_URL={url} {behind('0009_launch_email_on_offer')}"
    ]
