"""Launch benchmark: `campaign launch` of N offers on PostgreSQL against the one-row floor.

Prints figures; it is not a test. Run from the repository root (needs PostgreSQL, the same
server the tests use, MAKEGOOD_TEST_DATABASE_URL):

    uv run python bench/launch.py [--offers 2000000]

One database is seeded with N accounts and an approved claim campaign whose cohort has N
eligible members (server-side INSERT ... SELECT generate_series: the fastest way in, and not
what is measured). Then, in the same run and the same database (bench/steps_launch.py):

- floor: COPY of one row per offer (id, account_id, amount_minor, token_hash), made beforehand,
  into a table with a primary key and a UNIQUE token_hash, in one transaction: the least any
  launch of N offers must write. Only the COPY and the commit are timed.
- makegood: `launch_campaign` in a fresh Python process (the time of the call, excluding
  interpreter start-up; the peak memory is that process's ru_maxrss). It selects the members,
  makes ids and links, hashes them and writes the offers (each carrying its launch e-mail,
  pending until the outbox takes it), chunk by chunk,
  each chunk committed.

Afterwards the launch is checked in the database: one offer per account, a distinct link
each, one e-mail per offer, the campaign `launched`. Targets: at most 2.5x the floor, at least
25,000 offers/s.
"""

# SQL here is assembled from the benchmark's own constants and generated names.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from steps_launch import bare_launch, run_launch

from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade

ADMIN_URL = os.environ.get(
    "MAKEGOOD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
CAMPAIGN = "cmp_bench"
INCIDENT = "inc_bench"
POLICY = json.dumps({"kind": "percent", "percent": "3.33"})


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def admin() -> sa.Engine:
    return make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def url_for(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def seed(name: str, n: int) -> None:
    """Plan, N accounts, incident, approved campaign, N cohort members with amounts."""
    with admin().connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = make_engine(url_for(name), poolclass=sa.NullPool)
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO plans VALUES ('pln_std', 'Standard', 799, 'USD', %(now)s)",
            {"now": NOW},
        )
        conn.exec_driver_sql(
            "INSERT INTO accounts (account_id, email, plan_id, status, country, locale, "
            "next_bill_date, billing_day, updated_at) "
            "SELECT 'acc' || lpad(i::text, 10, '0'), 'sub' || i || '@example.com', 'pln_std', "
            "'active', 'US', 'en-US', DATE '2026-04-01', 1, %(now)s "
            "FROM generate_series(1, %(n)s) AS i",
            {"now": NOW, "n": n},
        )
        conn.exec_driver_sql(
            "INSERT INTO incidents VALUES (%(id)s, 'Bench outage', %(s)s, %(e)s, '[]', '[]', "
            "%(now)s, 'bench')",
            {
                "id": INCIDENT,
                "s": NOW - timedelta(hours=6),
                "e": NOW - timedelta(hours=1),
                "now": NOW,
            },
        )
        conn.exec_driver_sql(
            "INSERT INTO campaigns (id, incident_id, state, mode, policy, claim_days, "
            "events_source, affected_count, created_at, created_by, approved_at, approved_by) "
            "VALUES (%(id)s, %(inc)s, 'approved', 'claim', %(policy)s, 30, 'bench', %(n)s, "
            "%(now)s, 'bench', %(now)s, 'bench')",
            {"id": CAMPAIGN, "inc": INCIDENT, "n": n, "now": NOW, "policy": POLICY},
        )
        conn.exec_driver_sql(
            "INSERT INTO cohort_members (campaign_id, account_id, failed_attempts, "
            "first_failure_at, last_failure_at, plan_id, currency, amount_minor) "
            "SELECT %(cmp)s, 'acc' || lpad(i::text, 10, '0'), 3, %(s)s, %(e)s, 'pln_std', "
            "'USD', 27 FROM generate_series(1, %(n)s) AS i",
            {"cmp": CAMPAIGN, "s": NOW - timedelta(hours=5), "e": NOW - timedelta(hours=2), "n": n},
        )
    engine.dispose()
    engine = make_engine(url_for(name), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def check(name: str, n: int) -> dict[str, Any]:
    engine = make_engine(url_for(name), poolclass=sa.NullPool)
    with engine.connect() as conn:
        one = conn.exec_driver_sql
        facts = {
            "state": one(f"SELECT state FROM campaigns WHERE id = '{CAMPAIGN}'").scalar_one(),
            "offers": one("SELECT count(*) FROM offers").scalar_one(),
            "distinct_accounts": one("SELECT count(DISTINCT account_id) FROM offers").scalar_one(),
            "links": one("SELECT count(DISTINCT token_hash) FROM offers").scalar_one(),
            # Launch e-mails: stored, or still on their offers until the outbox takes them.
            "emails": one(
                "SELECT (SELECT count(*) FROM messages WHERE channel = 'email') + "
                "(SELECT count(*) FROM offers WHERE email_state = 'pending')"
            ).scalar_one(),
            "rows_in_messages": one("SELECT count(*) FROM messages").scalar_one(),
        }
    engine.dispose()
    facts["ok"] = facts["state"] == "launched" and (
        facts["offers"] == facts["distinct_accounts"] == facts["links"] == facts["emails"] == n
    )
    return facts


def checkpoint() -> None:
    """Write out what the previous step left dirty, so that each starts alike."""
    with admin().connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")


def report(n: int, floor: dict[str, Any], launch: dict[str, Any], facts: dict[str, Any]) -> None:
    ratio = launch["seconds"] / floor["seconds"]
    rate = n / launch["seconds"]
    print(f"offers: {n:,} (rows written per offer: the offer, carrying its e-mail)")
    floor_rate = n / floor["seconds"]
    print(f"floor (COPY 1 row/offer) {floor['seconds']:8.1f} s  {floor_rate:10,.0f} offers/s")
    print(
        f"makegood launch          {launch['seconds']:8.1f} s  {rate:10,.0f} offers/s"
        f"  peak memory {launch['peak_mib']:.0f} MiB"
    )
    print(f"launch / floor: {ratio:.2f}x   (target <= 2.5x: {ratio <= 2.5})")
    print(f"launch rate target >= 25,000 offers/s: {rate >= 25_000}")
    print(f"checked: {facts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=2_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    n = args.offers
    name = f"mg_bench_launch_{secrets.token_hex(3)}"
    try:
        say(f"seeding {n:,} accounts and cohort members ...")
        began = time.perf_counter()
        seed(name, n)
        say(f"  seeded in {time.perf_counter() - began:.1f} s")
        say("floor: COPY of one row per offer into a table with a PK and a unique token_hash ...")
        checkpoint()
        floor = bare_launch(url_for(name), n)
        say(f"  {floor['seconds']:.1f} s")
        say("makegood launch in a fresh process ...")
        checkpoint()
        launch = run_launch(url_for(name), CAMPAIGN, NOW)
        say(f"  {launch['seconds']:.1f} s")
        facts = check(name, n)
    finally:
        if not args.keep:
            with admin().connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report(n, floor, launch, facts)


if __name__ == "__main__":
    main()
