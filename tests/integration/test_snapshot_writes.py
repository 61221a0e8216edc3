"""The snapshot's one check of its campaign (cohort_members has no per-row foreign key since
migration 0006): a snapshot for a missing campaign is refused whole, and while a snapshot is
being written its campaign cannot be deleted (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.snapshot import write_snapshot
from makegood.telemetry.engine import connect_duckdb
from tests.conftest import FrozenClock, make_settings
from tests.integration.web_seed import seed_draft


@pytest.fixture
def decisions() -> Iterator[Any]:
    """A DuckDB connection holding a `decisions` table of two accounts (one eligible)."""
    duck = connect_duckdb()
    duck.execute(
        "CREATE TABLE decisions AS SELECT * FROM (VALUES "
        "('acc-a', 2, 1000000, 2000000, NULL, 'pln', 'USD', 30, 5, NULL, 'outage', 1), "
        "('acc-b', 1, 1000000, 1000000, 'unknown_account', NULL, NULL, NULL, 1, NULL, NULL, "
        "NULL)) AS d(account_id, failed_attempts, first_us, last_us, excluded_reason, plan_id, "
        "currency, amount_minor, impact_minutes, tier, why, why_count)"
    )
    yield duck
    duck.close()


def members(container: Container, campaign_id: str) -> list[str]:
    cm = t.cohort_members
    with container.engine.connect() as conn:
        query = sa.select(cm.c.account_id).where(cm.c.campaign_id == campaign_id)
        return list(conn.execute(query.order_by(cm.c.account_id)).scalars())


def test_a_snapshot_for_a_missing_campaign_is_refused_and_writes_nothing(
    container: Container, decisions: Any, tmp_path: Path
) -> None:
    with container.uow() as uow, pytest.raises(LookupError, match="cmp_missing"):
        write_snapshot(uow.conn, decisions, "cmp_missing", tmp_path)
    assert members(container, "cmp_missing") == []


def test_a_snapshot_is_written_for_its_existing_campaign(
    container: Container, decisions: Any, tmp_path: Path
) -> None:
    draft = seed_draft(container, created_by="seed", accounts=1)
    with container.uow() as uow:
        uow.conn.execute(
            t.cohort_members.delete().where(t.cohort_members.c.campaign_id == draft.campaign_id)
        )
        write_snapshot(uow.conn, decisions, draft.campaign_id, tmp_path)
        uow.commit()
    assert members(container, draft.campaign_id) == ["acc-a", "acc-b"]


@pytest.fixture
def pg_container(pg_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    engine = make_engine(pg_database_url)
    yield Container(make_settings(pg_database_url, tmp_path), engine, clock)
    engine.dispose()


@pytest.mark.postgres
def test_the_campaign_cannot_be_deleted_while_its_snapshot_is_written(
    pg_container: Container, decisions: Any, tmp_path: Path
) -> None:
    draft = seed_draft(pg_container, created_by="seed", accounts=1)
    url = pg_container.engine.url.set(drivername="postgresql")
    with pg_container.uow() as uow:
        uow.conn.execute(
            t.cohort_members.delete().where(t.cohort_members.c.campaign_id == draft.campaign_id)
        )
        write_snapshot(uow.conn, decisions, draft.campaign_id, tmp_path)
        with psycopg.connect(url.render_as_string(hide_password=False)) as other:
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM campaigns WHERE id = %s", (draft.campaign_id,))
