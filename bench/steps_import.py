"""The import step of the pipeline benchmark: `makegood import accounts` against a bare import.

- `run_import(url, accounts_file)`: `makegood import accounts FILE` as a user runs it (a fresh
  process, interpreter start-up included) into the migrated database at `url`, fresh and then
  again as a re-import of the same file; the plans are imported first from `plans.csv` beside
  the accounts file. Each figure is the command's wall time and the process's peak memory
  (ru_maxrss).
- `bare_import(url, accounts_file)`: the floor for the same rows: COPY of the file into an
  unindexed TEMP staging table, then one INSERT ... SELECT ... ON CONFLICT (account_id) DO
  UPDATE into `bare_accounts`, a table shaped like makegood's accounts with the same indexes
  (copied from `pg_indexes` of the accounts table at `url`), fresh and again.
"""

# SQL here is assembled from the benchmark's own constants and the server's index definitions.
# ruff: noqa: S608

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import measured  # bench/: a command's own time and peak memory
import sqlalchemy as sa

from makegood.store.engine import make_engine

COLUMNS = "account_id, email, plan_id, status, country, locale, next_bill_date"


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


@dataclass(frozen=True)
class ImportFigures:
    fresh: Run
    again: Run
    rows: int


def _makegood(url: str, *args: str) -> Run:
    env = {**os.environ, "MAKEGOOD_DATABASE_URL": url}
    done = measured.run([sys.executable, "-m", "makegood", *args], env=env, capture=False)
    if done.returncode != 0:
        raise RuntimeError(f"makegood {' '.join(args)} exited {done.returncode}")
    return Run(done.seconds, done.peak_mib)


def run_import(url: str, accounts_file: Path) -> ImportFigures:
    """`makegood import accounts` fresh and again into the migrated database at `url`."""
    _makegood(url, "import", "plans", str(accounts_file.parent / "plans.csv"))
    fresh = _makegood(url, "import", "accounts", str(accounts_file))
    again = _makegood(url, "import", "accounts", str(accounts_file))
    engine = make_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM accounts").scalar_one()
    engine.dispose()
    return ImportFigures(fresh, again, int(rows))


def _bare_once(engine: sa.Engine, accounts_file: Path) -> float:
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TEMP TABLE stage (account_id text, email text, plan_id text, status text,"
            " country text, locale text, next_bill_date text) ON COMMIT DROP"
        )
        driver = conn.connection.driver_connection
        assert driver is not None
        sql = f"COPY stage ({COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)"
        with driver.cursor() as cursor, cursor.copy(sql) as copy, accounts_file.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.exec_driver_sql(
            f"INSERT INTO bare_accounts ({COLUMNS}, billing_day, updated_at)"
            " SELECT account_id, email, plan_id, status, upper(country), locale,"
            " next_bill_date::date, extract(day FROM next_bill_date::date), now() FROM stage"
            " ON CONFLICT (account_id) DO UPDATE SET email = excluded.email,"
            " plan_id = excluded.plan_id, status = excluded.status, country = excluded.country,"
            " locale = excluded.locale, next_bill_date = excluded.next_bill_date,"
            " billing_day = excluded.billing_day, updated_at = excluded.updated_at"
        )
    return time.perf_counter() - started


def bare_import(url: str, accounts_file: Path) -> tuple[float, float]:
    """Seconds of the bare import, fresh and again, into `bare_accounts` at `url` (created
    here with the columns and indexes of makegood's accounts table)."""
    engine = make_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bare_accounts")
        conn.exec_driver_sql(
            "CREATE TABLE bare_accounts (LIKE accounts INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        indexes = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'accounts'"
        ).all()
        for name, definition in indexes:
            if name.endswith("_pkey"):
                continue  # the primary key below
            conn.exec_driver_sql(
                definition.replace(f"INDEX {name} ON", f"INDEX bare_{name} ON").replace(
                    "public.accounts ", "public.bare_accounts "
                )
            )
        conn.exec_driver_sql("ALTER TABLE bare_accounts ADD PRIMARY KEY (account_id)")
    fresh = _bare_once(engine, accounts_file)
    again = _bare_once(engine, accounts_file)
    engine.dispose()
    return fresh, again
