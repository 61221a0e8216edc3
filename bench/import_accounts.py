"""Import benchmark: `makegood import accounts` of a generated world on PostgreSQL against the
bare import of the same file (bench/steps_import.py says what each side does).

Prints figures; it is not a test. Run from the repository root (needs the PostgreSQL server the
tests use, MAKEGOOD_TEST_DATABASE_URL):

    uv run makegood demo generate --accounts 2000000 --attempts 200000 --days 1 --out DIR
    uv run python bench/import_accounts.py DIR/accounts.csv

Only accounts matter here, so the world may have few attempts. A fresh database is created,
migrated, used and dropped.
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from steps_import import bare_import, run_import

from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade

ADMIN_URL = os.environ.get(
    "MAKEGOOD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("accounts_file", type=Path)
    args = parser.parse_args()
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"mg_bench_import_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url, poolclass=sa.NullPool)
        upgrade(engine)
        engine.dispose()
        figures = run_import(url, args.accounts_file)
        bare_fresh, bare_again = bare_import(url, args.accounts_file)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    print(f"import accounts, {figures.rows:,} rows, PostgreSQL")
    print("| run | makegood s | bare s | ratio | makegood peak MiB |")
    print("| --- | --- | --- | --- | --- |")
    for label, run, bare in (
        ("fresh", figures.fresh, bare_fresh),
        ("re-import", figures.again, bare_again),
    ):
        ratio = run.seconds / bare
        print(f"| {label} | {run.seconds:.1f} | {bare:.1f} | {ratio:.2f}x | {run.peak_mib:,.0f} |")


if __name__ == "__main__":
    main()
