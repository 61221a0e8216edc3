"""The benchmark's synthetic world, generated once into a cache directory and reused.

The world is written by the project's own generator (makegood.telemetry.demo_world.generate_world);
a `world.json` beside it records the outage window so a later run with --skip-generate
measures the same incident on the same files.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from makegood.telemetry.demo_world import generate_world

DAYS = 4
# generate_world adds retries during the outage; measured on 20,000 accounts over 4 days, a
# nominal rate of 5.0 attempts per account-day gives 21.09 attempts per account.
ATTEMPTS_PER_NOMINAL = 21.09 / (5.0 * DAYS)


@dataclass(frozen=True)
class BenchWorld:
    """Where the attempt files are and which incident the benchmark computes."""

    attempts_dir: Path
    attempts: int
    accounts: int
    starts_at: datetime
    ends_at: datetime
    regions: tuple[str, ...]


def world_dir(data: Path, accounts: int, attempts: int) -> Path:
    return data / f"world-{accounts}-accounts-{attempts}-attempts"


def load_or_generate(data: Path, accounts: int, attempts: int, *, skip: bool) -> BenchWorld:
    """The cached world for (accounts, attempts), generated first unless `skip` and cached."""
    where = world_dir(data, accounts, attempts)
    marker = where / "world.json"
    if not marker.exists():
        if skip:
            sys.exit(f"{marker}: no cached world; run without --skip-generate first")
        rate = attempts / (accounts * DAYS * ATTEMPTS_PER_NOMINAL)
        print(
            f"generating {accounts:,} accounts x {DAYS} days at {rate:.2f} attempts/day "
            f"into {where} ...",
            file=sys.stderr,
            flush=True,
        )
        began = time.perf_counter()
        world = generate_world(where, accounts=accounts, days=DAYS, attempts_per_account_day=rate)
        print(
            f"generated {world.attempts:,} attempts in {time.perf_counter() - began:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        marker.write_text(
            json.dumps(
                {
                    "attempts": world.attempts,
                    "accounts": world.accounts + world.unknown_accounts,
                    "starts_at": world.outage_starts_at.isoformat(),
                    "ends_at": world.outage_ends_at.isoformat(),
                    "regions": list(world.outage_regions),
                },
                indent=2,
            )
        )
    meta = json.loads(marker.read_text())
    return BenchWorld(
        attempts_dir=where / "attempts",
        attempts=int(meta["attempts"]),
        accounts=int(meta["accounts"]),
        starts_at=datetime.fromisoformat(meta["starts_at"]),
        ends_at=datetime.fromisoformat(meta["ends_at"]),
        regions=tuple(meta["regions"]),
    )


if __name__ == "__main__":  # generate only: python bench/world_cache.py ACCOUNTS ATTEMPTS
    load_or_generate(
        Path(tempfile.gettempdir()) / "makegood-bench",
        int(sys.argv[1]),
        int(sys.argv[2]),
        skip=False,
    )
