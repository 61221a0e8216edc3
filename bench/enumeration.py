"""Enumeration check for `POST /credits`: does the answer, or its timing, tell a known address
from an unknown one? Prints figures; it is not a test and asserts no time.

    uv run python bench/enumeration.py [--tries 200] [--database-url URL] [--port 8765]

1. Sets up a database (default: a SQLite file in a temporary folder; or --database-url, e.g.
   a fresh PostgreSQL database) with `makegood db upgrade`, and imports one plan and one
   account whose address is the known one.
2. Starts `makegood serve` on 127.0.0.1 with both /credits rate limits off
   (MAKEGOOD_STATUS_REQUESTS_PER_MINUTE=0, MAKEGOOD_STATUS_EMAILS_PER_HOUR=0): with the
   defaults, 400 requests from one address would be refused after 10.
3. Sends --tries requests for the known address and as many for unknown ones (each a fresh
   random address), interleaved in a random order, each as a browser would: GET the form
   (cookie and CSRF token), then POST it. The POST is timed from writing the request to
   reading the whole answer.
4. Prints whether every answer body is byte-identical once the CSRF token is blanked, and for
   each group the median, p90 and mean, with a Mann-Whitney U test (normal approximation,
   two-sided) of the two timing samples: a large p means no difference beyond noise.
"""

# ruff: noqa: S603

from __future__ import annotations

import argparse
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CSRF = re.compile(rb'name="csrf_token" value="[0-9a-f]{64}"')
KNOWN = "known.subscriber@example.com"


def makegood(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "makegood", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def setup(env: dict[str, str], folder: Path) -> None:
    plans = folder / "plans.csv"
    plans.write_text("plan_id,name,monthly_price,currency\nstd,Standard,9.99,USD\n")
    accounts = folder / "accounts.csv"
    accounts.write_text(
        "account_id,email,plan_id,status,country,locale,next_bill_date\n"
        f"acc-known,{KNOWN},std,active,US,en-US,2030-01-01\n"
    )
    makegood(env, "db", "upgrade")
    makegood(env, "import", "plans", str(plans))
    makegood(env, "import", "accounts", str(accounts))


def wait_up(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("makegood serve did not come up")


def one_try(client: httpx.Client, base: str, email: str) -> tuple[float, bytes]:
    client.cookies.clear()
    form = client.get(f"{base}/credits")
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', form.text)
    assert token is not None, form.text
    body = {"email": email, "csrf_token": token.group(1)}
    started = time.perf_counter()
    answer = client.post(f"{base}/credits", data=body)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200, answer.status_code
    return elapsed, CSRF.sub(b'name="csrf_token" value=""', answer.content)


def mann_whitney(a: list[float], b: list[float]) -> tuple[float, float]:
    """U of `a` and the two-sided p-value (normal approximation with tie correction)."""
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(pooled)
    i = 0
    ties = 0.0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        size = j - i + 1
        ties += size**3 - size
        i = j + 1
    n1, n2 = len(a), len(b)
    r1 = sum(r for r, (_, group) in zip(ranks, pooled, strict=True) if group == 0)
    u = r1 - n1 * (n1 + 1) / 2
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = (u - n1 * n2 / 2) / sigma if sigma else 0.0
    p = math.erfc(abs(z) / math.sqrt(2))
    return u, p


def describe(name: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[min(len(ms) - 1, math.ceil(0.9 * len(ms)) - 1)]
    return (
        f"{name:8} n={len(ms)}  median {statistics.median(ms):7.2f} ms  p90 {p90:7.2f} ms  "
        f"mean {statistics.fmean(ms):7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = args.port
        if not port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        env = {
            **os.environ,
            "MAKEGOOD_DATABASE_URL": args.database_url or f"sqlite:///{folder / 'mg.db'}",
            "MAKEGOOD_MAIL_DIR": str(folder / "mail"),
            "MAKEGOOD_STATUS_REQUESTS_PER_MINUTE": "0",
            "MAKEGOOD_STATUS_EMAILS_PER_HOUR": "0",
        }
        setup(env, folder)
        server = subprocess.Popen(
            [sys.executable, "-m", "makegood", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_up(base)
            plan = ["known"] * args.tries + ["unknown"] * args.tries
            random.shuffle(plan)
            times: dict[str, list[float]] = {"known": [], "unknown": []}
            bodies: set[bytes] = set()
            with httpx.Client(headers={"Accept-Language": "en"}) as client:
                for _ in range(10):  # warm up both paths; not counted
                    one_try(client, base, KNOWN)
                    one_try(client, base, f"warm-{random.getrandbits(64):x}@example.net")
                for kind in plan:
                    email = KNOWN if kind == "known" else f"u{random.getrandbits(64):x}@example.net"
                    elapsed, body = one_try(client, base, email)
                    times[kind].append(elapsed)
                    bodies.add(body)
        finally:
            server.terminate()
            server.wait(timeout=30)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"POST /credits, {args.tries} known and {args.tries} unknown addresses, {database}")
    print(
        f"bodies byte-identical apart from the CSRF token: {'yes' if len(bodies) == 1 else 'NO'}"
        f" ({len(bodies)} distinct)"
    )
    print(describe("known", times["known"]))
    print(describe("unknown", times["unknown"]))
    u, p = mann_whitney(times["known"], times["unknown"])
    print(
        f"Mann-Whitney U = {u:.0f}, two-sided p = {p:.3f} "
        "(p well above 0.05: no timing difference beyond noise)"
    )


if __name__ == "__main__":
    main()
