"""The whole pipeline at scale on PostgreSQL, each step beside the bare engine doing its work.

Prints figures; it is not a test. Run from the repository root (needs PostgreSQL):

    uv run python bench/pipeline.py                         # 2,000,000 accounts, 40M attempts
    uv run python bench/pipeline.py --world /work/bench-world   # reuse a generated world
    uv run python bench/pipeline.py --accounts 200000 --attempts 4000000   # a quick run

The world is made by `makegood demo generate` (once, then reused from `--world`). Each
makegood step runs as a user would run it, `makegood ...` in a fresh process on a fresh
database; its time includes the interpreter's start-up and its peak memory is that process's
`ru_maxrss`. Each bare figure is measured in the same run, on the same files and row counts,
exactly as issue 13 defines it (each floor lives in its step's module, steps_import.py,
steps_create.py and steps_launch.py, shared with that step's own benchmark):

- import accounts: COPY of the CSV into an unindexed staging table, then one INSERT ... ON
  CONFLICT into a table made `LIKE accounts INCLUDING ALL` (the same indexes and checks);
  once into the empty table (fresh) and once more (re-import);
- campaign create: one hand-written DuckDB query (the cohort of the incident's window and
  regions joined with accounts.csv and plans.csv, amount and exclusion per account), written
  out and COPYed into a table made `LIKE cohort_members INCLUDING ALL` (steps_create.py);
- launch: COPY of one row per offer (id, account_id, amount_minor, token_hash) into a table
  with a primary key and a unique token_hash, as many rows as the launch issued; the rows are
  made before the clock starts.

At the end the totals, their ratio, and the same pipeline extrapolated linearly in accounts
to 20M and 200M subscribers.
"""

# ruff: noqa: S608 - fixed command lines; SQL from this script's own figures and files

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import measured  # bench/: a command's own time and peak memory
import psycopg
import sqlalchemy as sa
import steps_create
import steps_import
import steps_launch  # bench/: the launch floor lives there, shared with its own bench
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "MAKEGOOD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PERCENT = 3


@dataclass(frozen=True)
class Run:
    """One step's wall time and the peak resident memory of its process (None: not measured)."""

    seconds: float
    peak_mib: float | None = None
    stdout: str = ""
    spread: str = ""  # the fastest and slowest of several runs, when the figure is a median


@dataclass(frozen=True)
class Step:
    name: str
    makegood: Run
    bare: Run | None
    target: float | None  # the ratio target, when it sets one


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def makegood(args: Sequence[str], env: dict[str, str], expect: int = 0) -> Run:
    """`makegood ARGS` in a fresh process: wall time and that process's peak memory."""
    exe = shutil.which("makegood") or sys.exit("makegood is not on PATH: run with `uv run`")
    done = measured.run([exe, *args], env=env)
    if done.returncode != expect:
        sys.exit(f"makegood {' '.join(args)} exited {done.returncode}, expected {expect}")
    return Run(done.seconds, done.peak_mib, done.stdout)


def no_work(args: Sequence[str], env: dict[str, str], expect: int, runs: int = 7) -> Run:
    """A command with no work to do, `runs` times: the median wall time (one run is at the
    mercy of whatever else the machine does in that half-second)."""
    times = sorted(makegood(args, env, expect).seconds for _ in range(runs))
    return Run(times[len(times) // 2], spread=f"{times[0]:.2f}-{times[-1]:.2f}")


def last_line(run: Run) -> str:
    return run.stdout.strip().splitlines()[-1]


def psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def count(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def world_of(args: argparse.Namespace, env: dict[str, str]) -> tuple[Path, dict[str, object]]:
    folder = Path(
        args.world
        or Path(tempfile.gettempdir())
        / "makegood-bench"
        / f"pipeline-{args.accounts}-{args.attempts}"
    )
    marker = folder / "world.json"
    if not marker.exists():
        say(f"generating {args.accounts:,} accounts and {args.attempts:,} attempts in {folder}")
        makegood(
            [
                "demo",
                "generate",
                "--accounts",
                str(args.accounts),
                "--attempts",
                str(args.attempts),
                "--out",
                str(folder),
            ],
            env,
        )
    world = json.loads(marker.read_text())
    return folder, world


def report(steps: list[Step], accounts: int, offers: int, startup: dict[str, Run]) -> None:
    print(f"\npipeline on PostgreSQL: {accounts:,} accounts, {offers:,} offers")
    print(f"{'step':<24}{'makegood s':>12}{'bare s':>10}{'ratio':>8}{'target':>8}{'peak MiB':>10}")
    for step in steps:
        bare = f"{step.bare.seconds:10.1f}" if step.bare else f"{'':>10}"
        ratio = f"{step.makegood.seconds / step.bare.seconds:7.2f}x" if step.bare else f"{'':>8}"
        target = f"{step.target:7.1f}x" if step.target else f"{'':>8}"
        peak = f"{step.makegood.peak_mib:10.0f}" if step.makegood.peak_mib else f"{'':>10}"
        print(f"{step.name:<24}{step.makegood.seconds:12.1f}{bare}{ratio}{target}{peak}")
    timed = [s for s in steps if s.bare]
    ours = sum(s.makegood.seconds for s in timed)
    bare_total = sum(s.bare.seconds for s in timed if s.bare)
    print(
        f"{'pipeline (the above)':<24}{ours:12.1f}{bare_total:10.1f}"
        f"{ours / bare_total:7.2f}x{2.5:7.1f}x"
    )
    launch = next(s for s in steps if s.name == "campaign launch")
    print(
        f"launch rate: {offers / launch.makegood.seconds:,.0f} offers/s (target 25,000); "
        f"bare {offers / launch.bare.seconds:,.0f}/s"
        if launch.bare
        else ""
    )
    for name, run in startup.items():
        spread = f", {run.spread} s over 7 runs" if run.spread else ""
        print(f"start-up {name:<30}{run.seconds:6.2f} s (target 0.4 s{spread})")
    for scale in (20_000_000, 200_000_000):
        factor = scale / accounts
        print(
            f"extrapolated to {scale / 1e6:.0f}M accounts: makegood {ours * factor / 60:,.0f} min,"
            f" bare {bare_total * factor / 60:,.0f} min"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2_000_000)
    parser.add_argument("--attempts", type=int, default=40_000_000)
    parser.add_argument("--world", help="a folder from `makegood demo generate` to reuse")
    args = parser.parse_args()

    name = f"mg_pipeline_{os.getpid()}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "MAKEGOOD_DATABASE_URL": url, "MAKEGOOD_ENVIRONMENT": "development"}
    folder, world = world_of(args, env)
    outage = world["outage"]
    assert isinstance(outage, dict)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    dsn = psycopg_url(url)
    try:
        makegood(["db", "upgrade"], env)
        makegood(["import", "plans", str(folder / "plans.csv")], env)
        steps: list[Step] = []
        accounts_csv = folder / "accounts.csv"
        say("import accounts (fresh) ...")
        fresh = makegood(["import", "accounts", str(accounts_csv)], env)
        say("import accounts (again) ...")
        again = makegood(["import", "accounts", str(accounts_csv)], env)
        bare_fresh, bare_again = steps_import.bare_import(url, accounts_csv)
        steps.append(Step("import accounts", fresh, Run(bare_fresh), 2.0))
        steps.append(Step("re-import accounts", again, Run(bare_again), 2.0))
        regions = [arg for r in outage["regions"] for arg in ("--region", r)]
        incident = last_line(
            makegood(
                [
                    "incident",
                    "create",
                    "--title",
                    "Pipeline outage",
                    "--start",
                    outage["start"],
                    "--end",
                    outage["end"],
                    *regions,
                ],
                env,
            )
        )
        say("campaign create ...")
        created = makegood(
            [
                "campaign",
                "create",
                incident,
                "--events",
                str(folder / "attempts"),
                "--percent",
                str(PERCENT),
            ],
            env,
        )
        campaign = last_line(created)
        floor = steps_create.bare_create(
            accounts_csv,
            folder / "plans.csv",
            str(folder / "attempts"),
            url=url,
            starts_at=datetime.fromisoformat(outage["start"]),
            ends_at=datetime.fromisoformat(outage["end"]),
            regions=list(outage["regions"]),
        )
        steps.append(Step("campaign create", created, Run(floor.seconds), 2.0))
        startup = {
            "makegood --help": makegood(["--help"], env),
            "makegood campaign approve ID": makegood(["campaign", "approve", campaign], env),
            # Approved already: exit 4, nothing changed (bench/startup.py has the full set).
            "approve ID again (no work)": no_work(["campaign", "approve", campaign], env, 4),
            "makegood --help (median of 7)": no_work(["--help"], env, 0),
        }
        say("campaign launch ...")
        launched = makegood(["campaign", "launch", campaign], env)
        offers = count(dsn, f"SELECT count(*) FROM offers WHERE campaign_id = '{campaign}'")
        floor_launch = steps_launch.bare_launch(url, offers)
        steps.append(Step("campaign launch", launched, Run(floor_launch["seconds"]), 2.5))
        accounts = world["accounts"]
        assert isinstance(accounts, int)  # world.json, as `makegood demo generate` writes it
        report(steps, accounts, offers, startup)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
