"""`makegood db upgrade` of a database an older makegood wrote, with rows in every table: from
each older revision to the newest, the rows stay and every reference still holds. On SQLite a
migration that rebuilds a table (Alembic's batch mode copies it and drops the old one) runs with
the foreign keys off, then checks them all; a reference that points nowhere stops the upgrade
and changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from makegood.cli.main import cli
from makegood.settings import get_settings
from makegood.store.engine import make_engine
from makegood.store.migrate import alembic_config, current_revision, head_revisions, upgrade
from tests.factories.every_table import count_rows, fill_every_table

_SCRIPTS = ScriptDirectory.from_config(alembic_config())
OLDER = sorted(
    script.revision
    for script in _SCRIPTS.walk_revisions()
    if script.revision not in _SCRIPTS.get_heads()
)


@pytest.mark.parametrize("revision", OLDER)
def test_a_database_with_rows_upgrades_from_each_older_revision_and_keeps_them(
    bare_database_url: str, revision: str
) -> None:
    engine = make_engine(bare_database_url)
    try:
        upgrade(engine, revision)
        with engine.begin() as conn:
            tables = fill_every_table(conn)
            before = count_rows(conn, tables)
        assert {"campaigns", "cohort_members", "offers", "credits"} <= tables

        upgrade(engine)

        assert current_revision(engine) in head_revisions()
        with engine.connect() as conn:
            assert count_rows(conn, tables) == before
            kept = conn.execute(
                sa.text(
                    "SELECT c.state, o.amount_minor, cr.amount_minor, m.amount_minor "
                    "FROM campaigns c JOIN offers o ON o.campaign_id = c.id "
                    "JOIN credits cr ON cr.offer_id = o.id "
                    "JOIN cohort_members m ON m.campaign_id = c.id"
                )
            ).all()
            assert kept == [("launched", 266, 266, 266)]
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
                # The pooled connection the upgrade used checks references again.
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()


def test_a_reference_that_points_nowhere_stops_the_upgrade_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"{tmp_path}/old.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        upgrade(engine, "0004_fair_credits")
        with engine.begin() as conn:
            fill_every_table(conn)
    finally:
        engine.dispose()
    # Written by something that did not check references (foreign keys are off by default).
    with sqlite3.connect(path) as raw:
        raw.execute(
            "INSERT INTO statement_lines (statement_id, position, kind, amount_minor, "
            "description, credit_id) VALUES ('stm_1', 2, 'credit', -1, 'lost', 'crd_gone')"
        )
    raw.close()

    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["db", "upgrade"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 4, result.output
    (line,) = result.stderr.splitlines()
    assert line == (
        "error: the upgrade stopped and changed nothing: these rows refer to rows that do not "
        "exist: statement_lines row 2 (credits). Correct or delete them, then run "
        "`makegood db upgrade` again"
    )
    engine = make_engine(url)
    try:
        assert current_revision(engine) == "0004_fair_credits"
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("campaigns")}
        assert "appeal_days" not in columns
    finally:
        engine.dispose()
