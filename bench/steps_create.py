"""The campaign-create step of the pipeline benchmark: `makegood campaign create` against a bare
DuckDB query plus COPY of its rows.

- `run_create(url, incident_id, events)`: `makegood campaign create INCIDENT --events EVENTS
  --percent 3` as a user runs it (a fresh process, interpreter start-up included) against the
  migrated database at `url` holding the plans, the accounts and the incident. Its wall time
  and the process's peak memory (ru_maxrss); DuckDB runs inside that process, so its memory is
  in the figure.
- `bare_create(accounts_csv, plans_csv, events, ...)`: the floor issue 13 defines: one
  hand-written DuckDB query (the failed attempts of the window and regions per account, joined
  with accounts.csv and plans.csv, amount and exclusion per account), written to CSV by DuckDB
  and COPYed into `bare_members`, a table made `LIKE cohort_members INCLUDING ALL` (the same
  primary key and index; LIKE copies no foreign key) in the database at `url`.

Run alone (needs the database prepared: `makegood db upgrade`, the world's plans and accounts
imported, the incident created; see docs/performance.md, "Campaign create"):

    uv run python bench/steps_create.py --url URL --incident INC --world /work/bench-world
"""

# ruff: noqa: S603, S608 - fixed command lines; SQL from this script's own constants and files

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import measured  # bench/: a command's own time and peak memory
import psycopg
from sqlalchemy.engine import make_url

from makegood.domain.currencies import exponent

PERCENT = 3
# The columns the floor fills: the "amount and exclusion per account" and the evidence.
COPY_IN = (
    "COPY bare_members (campaign_id, account_id, failed_attempts, first_failure_at,"
    " last_failure_at, excluded_reason, plan_id, currency, amount_minor) FROM STDIN (FORMAT csv)"
)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float
    campaign_id: str = ""


def _psycopg(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run_create(url: str, incident_id: str, events: str, percent: int = PERCENT) -> Run:
    """`makegood campaign create` in a fresh process: wall time, peak memory, campaign id."""
    env = {**os.environ, "MAKEGOOD_DATABASE_URL": url}
    args = ["campaign", "create", incident_id, "--events", events, "--percent", str(percent)]
    done = measured.run([sys.executable, "-m", "makegood", *args], env=env)
    if done.returncode != 0:
        raise RuntimeError(f"makegood {' '.join(args)} failed")
    return Run(done.seconds, done.peak_mib, done.stdout.strip().splitlines()[-1])


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def bare_query(
    accounts_csv: Path,
    plans_csv: Path,
    events: str,
    starts_at: datetime,
    ends_at: datetime,
    regions: list[str],
    out: Path,
    percent: int = PERCENT,
) -> str:
    """The one hand-written query, as a COPY of its rows to `out` (CSV, no header)."""
    currencies = {line.rsplit(",", 1)[-1] for line in plans_csv.read_text().splitlines()[1:]}
    scales = ", ".join(f"({_literal(c)}, {10 ** exponent(c)})" for c in sorted(currencies))
    where_region = f"AND region IN ({', '.join(_literal(r) for r in regions)})" if regions else ""
    parquet = events.rstrip("/") + "/*.parquet" if Path(events).is_dir() else events
    return f"""
COPY (
WITH cohort AS (
    SELECT account_id, count(DISTINCT ts) AS failed_attempts, min(ts) AS first_at,
           max(ts) AS last_at
    FROM read_parquet({_literal(parquet)})
    WHERE outcome = 'failure' AND ts >= {_literal(starts_at.isoformat())}::TIMESTAMPTZ
      AND ts < {_literal(ends_at.isoformat())}::TIMESTAMPTZ {where_region}
    GROUP BY account_id
),
accounts AS (SELECT account_id, status, plan_id
             FROM read_csv({_literal(str(accounts_csv))}, header = true, all_varchar = true)),
plans AS (SELECT plan_id, monthly_price, currency
          FROM read_csv({_literal(str(plans_csv))}, header = true, all_varchar = true)),
scales(currency, scale) AS (VALUES {scales}),
priced AS (
    SELECT c.*, a.account_id IS NOT NULL AS known, a.status, a.plan_id, p.currency,
           CAST(round(CAST(p.monthly_price AS DECIMAL(18, 4)) * s.scale * {percent} / 100)
                AS BIGINT) AS amount
    FROM cohort c
    LEFT JOIN accounts a ON a.account_id = c.account_id
    LEFT JOIN plans p ON p.plan_id = a.plan_id
    LEFT JOIN scales s ON s.currency = p.currency
)
SELECT 'bare', account_id, failed_attempts, first_at, last_at,
       CASE WHEN NOT known THEN 'unknown_account' WHEN status <> 'active' THEN 'not_active'
            WHEN amount = 0 THEN 'zero_amount' END AS excluded_reason,
       plan_id, currency, CASE WHEN known AND status = 'active' AND amount > 0 THEN amount END
FROM priced
) TO {_literal(str(out))} (FORMAT csv, HEADER false)
"""


def bare_create(
    accounts_csv: Path,
    plans_csv: Path,
    events: str,
    *,
    url: str,
    starts_at: datetime,
    ends_at: datetime,
    regions: list[str],
) -> Run:
    """The bare query, then COPY of its rows into `bare_members` (emptied first), timed
    together; memory is this process's peak so far (run it in a process of its own)."""
    import resource

    scratch = Path(tempfile.mkdtemp(prefix="mg-bare-create-"))
    out = scratch / "members.csv"
    query = bare_query(accounts_csv, plans_csv, events, starts_at, ends_at, regions, out)
    with psycopg.connect(_psycopg(url)) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bare_members (LIKE cohort_members INCLUDING ALL)")
        cur.execute("TRUNCATE bare_members")
        conn.commit()
        started = time.perf_counter()
        db = duckdb.connect()
        db.execute("SET TimeZone = 'UTC'")
        db.execute(query)
        db.close()
        with cur.copy(COPY_IN) as copy, out.open("rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
    out.unlink()
    scratch.rmdir()
    return Run(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the prepared database (SQLAlchemy URL)")
    parser.add_argument("--incident", required=True, help="the incident over the world's outage")
    parser.add_argument("--world", default="/work/bench-world", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--bare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    world = json.loads((args.world / "world.json").read_text())
    outage = world["outage"]
    window = {
        "url": args.url,
        "starts_at": datetime.fromisoformat(outage["start"]),
        "ends_at": datetime.fromisoformat(outage["end"]),
        "regions": list(outage["regions"]),
    }
    files = (args.world / "accounts.csv", args.world / "plans.csv", str(args.world / "attempts"))
    if args.bare_only:  # a process of its own, so its peak memory is the bare work's
        run = bare_create(*files, **window)
        print(json.dumps({"seconds": run.seconds, "peak_mib": run.peak_mib}))
        return
    for i in range(args.repeat):
        made = run_create(args.url, args.incident, files[2])
        bare_out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--bare-only",
                "--url",
                args.url,
                "--incident",
                args.incident,
                "--world",
                str(args.world),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        bare = json.loads(bare_out)
        print(
            f"run {i + 1}: makegood campaign create {made.seconds:.1f} s, "
            f"peak {made.peak_mib:.0f} MiB ({made.campaign_id}); bare {bare['seconds']:.1f} s, "
            f"peak {bare['peak_mib']:.0f} MiB; ratio {made.seconds / bare['seconds']:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
