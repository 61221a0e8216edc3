"""The launch step of the benchmarks and its bare-engine floor (bench/launch.py, pipeline.py).

- `run_launch(url, campaign_id)`: `makegood.services.launch.launch_campaign` of an approved
  campaign, in a fresh Python process (time of the call, excluding interpreter start-up; peak
  memory is that process's ru_maxrss, taken by bench/measured.py).
- `bare_launch(url, n)`: the floor, the least any launch of n offers must write: n rows of
  (id, account_id, amount_minor, token_hash) made beforehand (not timed), then COPY'd in one
  transaction into a fresh table with a primary key and a UNIQUE token_hash; the COPY and its
  commit are timed. The table is dropped afterwards.

Both return a dict with at least "seconds" and "offers". Run as a script only by run_launch.
"""

from __future__ import annotations

import json
import resource
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

import measured  # bench/: a command's own time and peak memory
from sqlalchemy.engine import make_url

FLOOR_ROWS_PER_WRITE = 20_000


def run_launch(url: str, campaign_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Launch `campaign_id` in a fresh process; {"seconds", "offers", "peak_mib"}."""
    command = [sys.executable, __file__, url, campaign_id]
    if now is not None:
        command.append(now.isoformat())
    # From a small process of its own (bench/measured.py): forked from the benchmark, its
    # peak memory would count the benchmark's.
    child = measured.run(command)
    if child.returncode != 0:
        raise RuntimeError(f"the launch failed (exit {child.returncode}; its error is above)")
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    result["peak_mib"] = child.peak_mib
    return result


def bare_launch(url: str, n: int) -> dict[str, Any]:
    """COPY n one-row offers into a table with a primary key and a unique token_hash; seconds."""
    import psycopg

    from makegood.domain.ids import new_ids
    from makegood.domain.tokens import new_tokens_with_hashes

    chunks = []
    for start in range(0, n, FLOOR_ROWS_PER_WRITE):
        count = min(FLOOR_ROWS_PER_WRITE, n - start)
        ids = new_ids("ofr", count)
        pairs = new_tokens_with_hashes(count)
        chunks.append(
            "".join(
                f"{offer_id}\tacc{start + i:010d}\t27\t{digest}\n"
                for i, (offer_id, (_, digest)) in enumerate(zip(ids, pairs, strict=True))
            ).encode()
        )
    table = f"floor_offers_{secrets.token_hex(3)}"
    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
    ) as conn:
        conn.execute(
            f"CREATE TABLE {table} (id varchar(40) PRIMARY KEY, account_id varchar(64) NOT NULL, "
            "amount_minor bigint NOT NULL, token_hash varchar(64) NOT NULL UNIQUE)"
        )
        conn.commit()
        conn.execute("CHECKPOINT")
        try:
            began = time.perf_counter()
            with (
                conn.cursor() as cur,
                cur.copy(
                    f"COPY {table} (id, account_id, amount_minor, token_hash) FROM STDIN"
                ) as copy,
            ):
                for chunk in chunks:
                    copy.write(chunk)
            conn.commit()
            seconds = time.perf_counter() - began
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.commit()
    return {"seconds": seconds, "offers": n}


def _child(url: str, campaign_id: str, now: str | None) -> None:
    from makegood.bootstrap import Container
    from makegood.services.launch import launch_campaign
    from makegood.settings import Settings
    from makegood.store.engine import make_engine

    instant = datetime.fromisoformat(now) if now else datetime.now(UTC)
    settings = Settings(database_url=url, smtp_url=None)
    container = Container(settings=settings, engine=make_engine(url), clock=lambda: instant)
    began = time.perf_counter()
    result = launch_campaign(container, campaign_id, actor="bench")
    seconds = time.perf_counter() - began
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "offers": result.offers, "peak_mib": peak_mib}))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
