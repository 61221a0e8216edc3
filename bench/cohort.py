"""Cohort benchmark: makegood against one hand-written DuckDB query and plain pandas.

Prints figures; it is not a test. Run from the repository root:

    uv run python bench/cohort.py [--accounts 5000000] [--attempts 100000000]
        [--data /tmp/makegood-bench] [--skip-generate] [--spark] [--memory-limit 1536MB]

Each measurement runs in its own Python process (the time excludes interpreter start-up,
the peak memory is that process's ru_maxrss) and writes its cohort to Parquet; the results
are then compared row for row. pandas runs under an address-space cap (--pandas-cap-gib) and
its MemoryError is reported instead of a time when the cap is too small for it.
"""

# SQL here is assembled from the benchmark's own paths and constants.
# ruff: noqa: S608, S603

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from world_cache import BenchWorld, load_or_generate

HERE = Path(__file__).resolve()
PARTS = ("makegood", "duckdb_sql", "pandas", "detect", "spark")


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB on Linux


def _load() -> str:
    """The 1-, 5- and 15-minute load averages: the machine may be shared while measuring."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def run_makegood(world: BenchWorld, out: Path, memory_limit: str) -> dict[str, Any]:
    """makegood's cohort, end to end: read and check the files, compute, write Parquet.
    DuckDB is imported before the clock starts, as for the baseline (makegood imports it on
    first use)."""
    import duckdb  # noqa: F401

    from makegood.telemetry.cohort import compute_cohort

    began = time.perf_counter()
    with compute_cohort(
        str(world.attempts_dir),
        world.starts_at,
        world.ends_at,
        world.regions,
        [],
        memory_limit=memory_limit,
        temp_dir=str(out.parent / "spill"),
    ) as result:
        result.write(out)
        affected = result.count
    return {"seconds": time.perf_counter() - began, "affected": affected}


def run_duckdb_sql(world: BenchWorld, out: Path) -> dict[str, Any]:
    """The baseline: one hand-written DuckDB query computing the same cohort (with impact
    minutes) over the same files, with DuckDB's default settings."""
    import duckdb

    began = time.perf_counter()
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    regions = ", ".join(_lit(r) for r in world.regions)
    conn.execute(
        f"""
        COPY (
            WITH win AS (
                SELECT account_id, ts, outcome, error_code, region, device
                FROM read_parquet({_lit(str(world.attempts_dir / "*.parquet"))})
                WHERE ts >= {_lit(world.starts_at.isoformat())}::TIMESTAMPTZ
                  AND ts < {_lit(world.ends_at.isoformat())}::TIMESTAMPTZ
            ), hits AS (
                SELECT DISTINCT account_id, ts, error_code, region, device FROM win
                WHERE outcome = 'failure' AND region IN ({regions})
            ), affected AS (
                SELECT account_id, count(*) AS failed_attempts, min(ts) AS first_failure_at,
                       max(ts) AS last_failure_at
                FROM hits GROUP BY account_id
            ), recovered AS (
                SELECT a.account_id, min(w.ts) AS success_ts
                FROM affected a JOIN win w USING (account_id)
                WHERE w.outcome = 'success' AND w.ts > a.first_failure_at
                GROUP BY a.account_id
            )
            SELECT account_id, failed_attempts, first_failure_at, last_failure_at,
                   (epoch_us(coalesce(success_ts, {_lit(world.ends_at.isoformat())}::TIMESTAMPTZ))
                    - epoch_us(first_failure_at) + 59999999) // 60000000 AS impact_minutes
            FROM affected LEFT JOIN recovered USING (account_id) ORDER BY account_id
        ) TO {_lit(str(out))} (FORMAT parquet)
        """
    )
    row = conn.execute(f"SELECT count(*) FROM {_lit(str(out))}").fetchone()
    assert row is not None  # count(*) is one row
    (affected,) = row
    conn.close()
    return {"seconds": time.perf_counter() - began, "affected": int(affected)}


def run_pandas(world: BenchWorld, out: Path, cap_gib: float) -> dict[str, Any]:
    """The straightforward pandas version: read every file, filter, drop duplicates, group."""
    cap = int(cap_gib * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    began = time.perf_counter()
    try:
        import pandas as pd  # type: ignore[import-untyped]

        frame = pd.read_parquet(world.attempts_dir)
        window = frame[
            (frame["ts"] >= pd.Timestamp(world.starts_at))
            & (frame["ts"] < pd.Timestamp(world.ends_at))
        ]
        hits = window[
            (window["outcome"] == "failure") & window["region"].isin(world.regions)
        ].drop_duplicates(["account_id", "ts", "error_code", "region", "device"])
        cohort = (
            hits.groupby("account_id")["ts"]
            .agg(failed_attempts="count", first_failure_at="min", last_failure_at="max")
            .reset_index()
        )
        successes = window[window["outcome"] == "success"][["account_id", "ts"]].merge(
            cohort[["account_id", "first_failure_at"]], on="account_id"
        )
        recovered = (
            successes[successes["ts"] > successes["first_failure_at"]]
            .groupby("account_id")["ts"]
            .min()
            .rename("success_ts")
        )
        cohort = cohort.merge(recovered, on="account_id", how="left")
        until = cohort["success_ts"].fillna(pd.Timestamp(world.ends_at))
        micros = (until - cohort["first_failure_at"]) // pd.Timedelta(microseconds=1)
        cohort["impact_minutes"] = (micros + 59_999_999) // 60_000_000
        cohort = cohort.drop(columns="success_ts").sort_values("account_id")
        cohort.to_parquet(out, index=False)
    except MemoryError:
        return {"memory_error": True, "cap_gib": cap_gib, "peak_gib": _peak_gib()}
    return {"seconds": time.perf_counter() - began, "affected": len(cohort)}


def run_detect(world: BenchWorld, memory_limit: str) -> dict[str, Any]:
    """makegood detect over the same files: 1-minute buckets per region (DuckDB engine)."""
    from makegood.telemetry.detect import DetectionRule
    from makegood.telemetry.detect_duckdb import detect_duckdb

    began = time.perf_counter()
    found = detect_duckdb(
        str(world.attempts_dir),
        DetectionRule(bucket_seconds=60),
        ("region",),
        "1m",
        memory_limit=memory_limit,
        temp_dir=str(world.attempts_dir.parent.parent / "results" / "spill"),
    )
    seconds = time.perf_counter() - began
    shown = [f"{w.start:%H:%M}-{w.end:%H:%M} {len(w.segments)} region(s)" for w in found.windows]
    return {"seconds": seconds, "windows": "; ".join(shown) or "none"}


def run_spark(world: BenchWorld, out: Path) -> dict[str, Any]:
    """The Spark engine (local[*]) on the same files; the time includes Spark's start-up."""
    from makegood.telemetry.spark import compute_cohort_spark

    began = time.perf_counter()
    with compute_cohort_spark(
        str(world.attempts_dir), world.starts_at, world.ends_at, world.regions, []
    ) as result:
        result.write(out)
        affected = result.count
    return {"seconds": time.perf_counter() - began, "affected": affected}


def _child(args: argparse.Namespace) -> None:
    world = load_or_generate(args.data, args.accounts, args.attempts, skip=True)
    out = args.results / f"{args.part}.parquet"
    if args.part == "makegood":
        found = run_makegood(world, out, args.memory_limit)
    elif args.part == "duckdb_sql":
        found = run_duckdb_sql(world, out)
    elif args.part == "pandas":
        found = run_pandas(world, out, args.pandas_cap_gib)
    elif args.part == "detect":
        found = run_detect(world, args.memory_limit)
    else:
        found = run_spark(world, out)
    found.setdefault("peak_gib", _peak_gib())
    print(json.dumps(found))


def _measure_once(args: argparse.Namespace, part: str) -> dict[str, Any]:
    command = [sys.executable, str(HERE), "--part", part, "--results", str(args.results)]
    command += ["--data", str(args.data), "--accounts", str(args.accounts)]
    command += ["--attempts", str(args.attempts), "--memory-limit", args.memory_limit]
    command += ["--pandas-cap-gib", str(args.pandas_cap_gib)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        return {"failed": f"exit {done.returncode}: {' | '.join(tail)}"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _measure(args: argparse.Namespace, parts: list[str]) -> dict[str, dict[str, Any]]:
    """Per part, the fastest of --repeat runs (each in a fresh process) with the highest peak
    memory. The runs are interleaved (round 1 of every part, then round 2, ...), so a change in
    the shared machine's load falls on every part alike, not on whichever ran last."""
    runs: dict[str, list[dict[str, Any]]] = {part: [] for part in parts}
    for attempt in range(1, args.repeat + 1):
        for part in parts:
            done = runs[part]
            if done and ("seconds" not in done[-1] or part == "spark"):
                continue  # a failure or MemoryError does not improve on retry; Spark: once
            repeat = 1 if part == "spark" else args.repeat
            print(f"measuring {part} (run {attempt}/{repeat}) ...", file=sys.stderr, flush=True)
            done.append(_measure_once(args, part))
    found: dict[str, dict[str, Any]] = {}
    for part, done in runs.items():
        if "seconds" not in done[-1]:
            found[part] = done[-1]
            continue
        best = min(done, key=lambda run: float(run["seconds"]))
        best["peak_gib"] = max(float(run["peak_gib"]) for run in done)
        best["all_seconds"] = [float(run["seconds"]) for run in done]
        found[part] = best
    return found


def _same_rows(results: Path, a: str, b: str) -> bool:
    """Equal cohorts: same accounts, counts, UTC instants (microseconds), impact minutes."""
    import duckdb

    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")

    def rel(name: str) -> str:
        return (
            "SELECT CAST(account_id AS VARCHAR) AS a, CAST(failed_attempts AS BIGINT) AS n, "
            "epoch_us(CAST(first_failure_at AS TIMESTAMPTZ)) AS f, "
            "epoch_us(CAST(last_failure_at AS TIMESTAMPTZ)) AS l, "
            "CAST(impact_minutes AS BIGINT) AS m "
            f"FROM read_parquet({_lit(str(results / (name + '.parquet')))})"
        )

    row = conn.execute(
        f"SELECT (SELECT count(*) FROM ({rel(a)} EXCEPT ALL {rel(b)})) + "
        f"(SELECT count(*) FROM ({rel(b)} EXCEPT ALL {rel(a)}))"
    ).fetchone()
    assert row is not None  # one aggregate: one row
    (diff,) = row
    conn.close()
    return int(diff) == 0


def _row(name: str, found: dict[str, Any], baseline: float | None) -> str:
    if "failed" in found:
        return f"| {name} | failed: {found['failed']} | | |"
    if "missing" in found:
        return f"| {name} | n/a ({found['missing']}) | | |"
    if found.get("memory_error"):
        return f"| {name} | MemoryError at {found['cap_gib']:g} GiB (address-space cap) | | |"
    seconds = float(found["seconds"])
    ratio = f"{seconds / baseline:.2f}x" if baseline else ""
    runs = ", ".join(f"{s:.1f}" for s in found.get("all_seconds", []))
    return f"| {name} | {seconds:.1f} s ({runs}) | {ratio} | {found['peak_gib']:.2f} GiB |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5_000_000)
    parser.add_argument("--attempts", type=int, default=100_000_000)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "makegood-bench")
    parser.add_argument("--skip-generate", action="store_true", help="use the cached world")
    parser.add_argument("--spark", action="store_true", help="also time the Spark engine")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--memory-limit", default="1536MB", help="makegood's DuckDB cap")
    parser.add_argument("--pandas-cap-gib", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (fastest)")
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        _child(args)
        return

    world = load_or_generate(args.data, args.accounts, args.attempts, skip=args.skip_generate)
    args.results = args.data / "results"
    args.results.mkdir(parents=True, exist_ok=True)
    for old in args.results.glob("*.parquet"):
        old.unlink()
    parts = ["duckdb_sql", "makegood", "detect"]
    if not args.skip_pandas:
        parts.append("pandas")
    if args.spark:
        parts.append("spark")
    load_before = _load()
    found = _measure(args, parts)

    base = found["duckdb_sql"].get("seconds")
    mg = found["makegood"].get("seconds")
    print(f"# cohort benchmark, {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC")
    print(f"load average before / after: {load_before} / {_load()}")
    print(
        f"{world.attempts:,} attempts, {world.accounts:,} accounts in the logs; incident "
        f"{world.starts_at:%Y-%m-%d %H:%M}-{world.ends_at:%H:%M} UTC in {', '.join(world.regions)};"
        f" cohort: {found['makegood'].get('affected', '?'):,} accounts"
    )
    print()
    print(
        f"| measurement | time, best of {args.repeat} (every run) | vs hand-written DuckDB "
        "| peak memory (ru_maxrss) |"
    )
    print("| --- | --- | --- | --- |")
    names = {
        "duckdb_sql": "(b) one hand-written DuckDB query (baseline)",
        "makegood": f"(a) makegood cohort, DuckDB engine, memory limit {args.memory_limit}",
        "pandas": f"(c) pandas (read Parquet, filter, groupby), cap {args.pandas_cap_gib:g} GiB",
        "detect": "(e) makegood detect",
        "spark": "(f) makegood cohort, Spark engine local[*] (incl. start-up; memory: Python "
        "side only, not the JVM)",
    }
    for part in parts:
        print(_row(names[part], found[part], base))
    print()
    if base and mg:
        print(f"makegood / baseline: {mg / base:.2f}x (target <= 1.25x)")
    pandas_seconds = found.get("pandas", {}).get("seconds")
    if mg and pandas_seconds:
        print(f"pandas / makegood: {pandas_seconds / mg:.1f}x (target >= 5x)")
    if "peak_gib" in found["makegood"]:
        print(f"makegood peak memory: {found['makegood']['peak_gib']:.2f} GiB (target <= 2 GiB)")
    if "windows" in found["detect"]:
        print(f"detection's windows: {found['detect']['windows']}")
    for other in ("duckdb_sql", "pandas", "spark"):
        if (args.results / f"{other}.parquet").exists() and other in found:
            same = _same_rows(args.results, "makegood", other)
            print(f"results equal, makegood vs {other}: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
