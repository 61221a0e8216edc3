"""Launch benchmark: `launch_campaign` of N offers on PostgreSQL against a bare COPY of them.

Prints figures; it is not a test. Run from the repository root (needs PostgreSQL, the same
server the tests use, MAKEGOOD_TEST_DATABASE_URL):

    uv run python bench/launch.py [--offers 2000000]

One database is seeded with N accounts and an approved campaign whose cohort has N members
(server-side INSERT ... SELECT generate_series: the fastest way in, and not what is measured),
then cloned (CREATE DATABASE ... TEMPLATE) so both sides start from identical tables and indexes.

- baseline: the rows a launch writes (N offers, N claim tokens, 2N messages), generated
  beforehand into COPY text files, then COPY'd into the clone in one transaction. Only the COPY
  and the commit are timed: it is the floor for writing these rows with these indexes.
- launch: `makegood.services.launch.launch_campaign` in a fresh Python process (the time is
  that of the call, excluding interpreter start-up; the peak memory is that process's
  ru_maxrss). It selects the members, makes ids and tokens, hashes them and writes everything.
Afterwards the launched rows are counted and checked (one offer per account, a token each).
"""

# SQL here is assembled from the benchmark's own constants and generated names.
# ruff: noqa: S603

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from makegood.services.launch import BATCH_POSTGRESQL as BATCH
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


def write_baseline_files(
    directory: Path, n: int
) -> tuple[dict[str, Path], list[dict[str, tuple[int, int]]]]:
    """The launch's rows as COPY text, made by the same generators the launch uses."""
    from makegood.domain.ids import new_ids
    from makegood.domain.tokens import new_tokens_with_hashes

    now = NOW.isoformat()
    expires = (NOW + timedelta(days=30)).isoformat()
    paths = {t: directory / f"{t}.copy" for t in ("offers", "claim_tokens", "messages")}
    files = {t: p.open("wb") for t, p in paths.items()}
    step = BATCH  # the launch's batch, so the interleaved baseline copies the same slices
    offsets: list[dict[str, tuple[int, int]]] = []
    for start in range(0, n, step):
        count = min(step, n - start)
        offer_ids = new_ids("ofr", count)
        message_ids = new_ids("msg", 2 * count)
        pairs = new_tokens_with_hashes(count)
        offers, tokens, messages = [], [], []
        for i, offer_id in enumerate(offer_ids):
            account = f"acc{start + i + 1:010d}"
            offers.append(
                f"{offer_id}\t{CAMPAIGN}\t{INCIDENT}\t{account}\topen\t27\tUSD\tpln_std\t"
                f"{now}\t{expires}\t\\N\t\\N\n"
            )
            token, digest = pairs[i]
            tokens.append(f"{digest}\t{offer_id}\t{now}\n")
            messages.append(
                f"{message_ids[2 * i]}\t{offer_id}\t{account}\temail\toffer_claim\tpending\t0\t"
                f"{now}\t{token}\t{now}\n"
                f"{message_ids[2 * i + 1]}\t{offer_id}\t{account}\tinapp\toffer_claim\tunread\t"
                f"0\t{now}\t\\N\t{now}\n"
            )
        slices = {}
        for table, lines in (("offers", offers), ("claim_tokens", tokens), ("messages", messages)):
            data = "".join(lines).encode()
            slices[table] = (files[table].tell(), len(data))
            files[table].write(data)
        offsets.append(slices)
    for f in files.values():
        f.close()
    return paths, offsets


COLUMNS = {
    "offers": "id, campaign_id, incident_id, account_id, state, amount_minor, currency, "
    "plan_id, created_at, expires_at, credited_at, credited_via",
    "claim_tokens": "token_hash, offer_id, created_at",
    "messages": "id, offer_id, account_id, channel, template, state, attempts, "
    "next_attempt_at, claim_token, created_at",
}


def bare_copy(name: str, paths: dict[str, Path]) -> float:
    """COPY the three files in one transaction; seconds including the commit."""
    import psycopg

    url = make_url(url_for(name))
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=name
    ) as conn:
        began = time.perf_counter()
        with conn.cursor() as cur:
            for table in ("offers", "claim_tokens", "messages"):
                with (
                    paths[table].open("rb") as f,
                    cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy,
                ):
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
        conn.commit()
        return time.perf_counter() - began


def interleaved_copy(
    name: str, paths: dict[str, Path], offsets: list[dict[str, tuple[int, int]]]
) -> float:
    """The same rows, COPY'd batch by batch as the launch writes them (offers, tokens, messages
    of each batch of members): index and foreign-key look-ups stay in cache, a stricter floor."""
    import psycopg

    url = make_url(url_for(name))
    files = {t: p.open("rb") for t, p in paths.items()}
    try:
        with psycopg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, dbname=name
        ) as conn:
            began = time.perf_counter()
            with conn.cursor() as cur:
                for slices in offsets:
                    for table in ("offers", "claim_tokens", "messages"):
                        start, size = slices[table]
                        files[table].seek(start)
                        data = files[table].read(size)
                        with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                            copy.write(data)
            conn.commit()
            return time.perf_counter() - began
    finally:
        for f in files.values():
            f.close()


def child_launch(url: str) -> None:
    """In a fresh process: launch the campaign, print seconds, offers and peak memory."""
    from makegood.bootstrap import Container
    from makegood.services.launch import launch_campaign
    from makegood.settings import Settings

    settings = Settings(database_url=url, smtp_url=None)
    container = Container(settings=settings, engine=make_engine(url), clock=lambda: NOW)
    began = time.perf_counter()
    result = launch_campaign(container, CAMPAIGN, actor="bench")
    seconds = time.perf_counter() - began
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "offers": result.offers, "peak_mib": peak_mib}))


def check(name: str, n: int) -> dict[str, Any]:
    engine = make_engine(url_for(name), poolclass=sa.NullPool)
    with engine.connect() as conn:
        one = conn.exec_driver_sql
        facts = {
            "offers": one("SELECT count(*) FROM offers").scalar_one(),
            "distinct_accounts": one("SELECT count(DISTINCT account_id) FROM offers").scalar_one(),
            "tokens": one("SELECT count(*) FROM claim_tokens").scalar_one(),
            "messages": one("SELECT count(*) FROM messages").scalar_one(),
        }
    engine.dispose()
    facts["ok"] = (
        facts["offers"] == facts["distinct_accounts"] == facts["tokens"] == n
        and facts["messages"] == 2 * n
    )
    return facts


def checkpoint() -> None:
    """Write out what the previous measurement left dirty, so that each one starts alike
    instead of paying for its predecessor's checkpoint."""
    with admin().connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")


def report(
    n: int,
    copy_seconds: float,
    batches_seconds: float,
    launch: dict[str, float],
    facts: dict[str, object],
) -> None:
    rows = 4 * n
    print(f"offers: {n:,} (rows written: {rows:,} = offers + tokens + 2 messages each)")
    print(f"bare COPY        {copy_seconds:8.1f} s  {n / copy_seconds:10,.0f} offers/s")
    print(
        f"launch_campaign  {launch['seconds']:8.1f} s  {n / launch['seconds']:10,.0f} offers/s"
        f"  peak memory {launch['peak_mib']:.0f} MiB"
    )
    print(f"bare COPY, batches{batches_seconds:8.1f} s  {n / batches_seconds:10,.0f} offers/s")
    print(f"launch / bare COPY: {launch['seconds'] / copy_seconds:.2f}x   (target <= 1.5x)")
    print(f"launch / bare COPY in batches: {launch['seconds'] / batches_seconds:.2f}x")
    print(f"launch rate target >= 50,000 offers/s: {n / launch['seconds'] >= 50_000}")
    print(f"checked: {facts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=2_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the two databases")
    parser.add_argument("--child-launch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_launch:
        child_launch(args.child_launch)
        return
    n = args.offers
    tag = secrets.token_hex(3)
    launched, copied = f"mg_bench_launch_{tag}", f"mg_bench_copy_{tag}"
    interleaved = f"mg_bench_batches_{tag}"
    try:
        say(f"seeding {n:,} accounts and cohort members ...")
        began = time.perf_counter()
        seed(launched, n)
        with admin().connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{copied}" TEMPLATE "{launched}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{interleaved}" TEMPLATE "{launched}"')
        say(f"  seeded and cloned in {time.perf_counter() - began:.1f} s")
        with tempfile.TemporaryDirectory(prefix="makegood-launch-") as tmp:
            say("writing the baseline's COPY files (not timed) ...")
            paths, offsets = write_baseline_files(Path(tmp), n)
            say("bare COPY of offers, claim_tokens, messages ...")
            checkpoint()
            copy_seconds = bare_copy(copied, paths)
            say(f"  {copy_seconds:.1f} s")
            say(f"bare COPY, batch by batch ({BATCH:,} members) as the launch writes ...")
            checkpoint()
            batches_seconds = interleaved_copy(interleaved, paths, offsets)
        say(f"  {batches_seconds:.1f} s")
        say("launch_campaign in a fresh process ...")
        checkpoint()
        child = subprocess.run(
            [sys.executable, __file__, "--child-launch", url_for(launched)],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            raise SystemExit(f"the launch failed:\n{child.stderr}")
        out = child.stdout
        launch = json.loads(out.strip().splitlines()[-1])
        facts = check(launched, n)
    finally:
        if not args.keep:
            with admin().connect() as conn:
                for name in (launched, copied, interleaved):
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report(n, copy_seconds, batches_seconds, launch, facts)


if __name__ == "__main__":
    main()
