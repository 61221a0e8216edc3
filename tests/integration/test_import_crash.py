"""An import is all or nothing even when it dies half-way: `makegood import accounts` killed
with SIGKILL, or its connection ended by the server (pg_terminate_backend), while it streams
rows into the staging table or upserts them, leaves the accounts exactly as they were.

The import runs in its own process on a file large enough to be caught in the act; the test
waits for the marker (its COPY or its INSERT showing in pg_stat_activity), never for a time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from makegood.store.engine import make_engine
from tests.factories import files as f

pytestmark = pytest.mark.postgres
ROWS = 400_000
MARKERS = ("COPY import_stage%", "INSERT INTO accounts AS t%")


@pytest.fixture
def engine(pg_database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(pg_database_url, poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def makegood(url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MAKEGOOD_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "makegood", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # progress lines; a pipe nobody reads could fill and block
    )


def big_accounts_file(path: Path) -> Path:
    """ROWS accounts; the first ten exist already (as paused) and would become active."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(",".join(f.ACCOUNT_COLUMNS) + "\n")
        fh.writelines(
            f"acc{i:07d},u{i}@example.org,basic,active,US,en-US,2026-04-{1 + i % 28:02d}\n"
            for i in range(ROWS)
        )
    return path


def accounts(engine: sa.Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT account_id, status, updated_at FROM accounts ORDER BY account_id"
            )
        ]


def wait_for_import(engine: sa.Engine, process: subprocess.Popen[bytes]) -> int:
    """The backend pid of the import's connection once its COPY or upsert is running."""
    with engine.connect() as conn:
        while process.poll() is None:
            pid = conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND (query LIKE %(copy)s OR query LIKE %(insert)s)",
                {"copy": MARKERS[0], "insert": MARKERS[1]},
            ).scalar()
            conn.rollback()  # a fresh snapshot of pg_stat_activity on the next look
            if pid is not None:
                return int(pid)
            time.sleep(0.02)  # polling interval, not synchronisation: we wait for the marker
    pytest.fail(f"the import ended (exit {process.returncode}) before it was caught")


@pytest.fixture
def seeded(pg_database_url: str, tmp_path: Path) -> Path:
    plans = f.write_csv(tmp_path / "plans.csv", f.PLAN_COLUMNS, [f.plan("basic")])
    assert makegood(pg_database_url, "import", "plans", str(plans)).wait() == 0
    first = [f.account(f"acc{i:07d}", status="paused") for i in range(10)]
    small = f.write_csv(tmp_path / "first.csv", f.ACCOUNT_COLUMNS, first)
    assert makegood(pg_database_url, "import", "accounts", str(small)).wait() == 0
    return big_accounts_file(tmp_path / "accounts.csv")


def test_kill_9_in_the_middle_of_an_import_changes_nothing(
    pg_database_url: str, engine: sa.Engine, seeded: Path
) -> None:
    before = accounts(engine)
    process = makegood(pg_database_url, "import", "accounts", str(seeded))
    wait_for_import(engine, process)
    process.kill()
    assert process.wait() == -9
    assert accounts(engine) == before
    # The database is usable at once: the same import, run again, completes.
    again = makegood(pg_database_url, "import", "accounts", str(seeded))
    assert again.wait() == 0
    assert len(accounts(engine)) == ROWS


def test_connection_terminated_in_the_middle_of_an_import_changes_nothing(
    pg_database_url: str, engine: sa.Engine, seeded: Path
) -> None:
    before = accounts(engine)
    process = makegood(pg_database_url, "import", "accounts", str(seeded))
    backend = wait_for_import(engine, process)
    with engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({backend})").scalar()
    assert process.wait() != 0
    assert accounts(engine) == before
