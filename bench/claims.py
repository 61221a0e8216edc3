"""Claims benchmark: POST /claim over loopback against `makegood serve --workers N` on
PostgreSQL, beside the raw database claim rate (the limit) measured in the same run.

Prints figures; it is not a test. Run from the repository root (needs PostgreSQL, the same
server the tests use, MAKEGOOD_TEST_DATABASE_URL):

    uv run python bench/claims.py [--offers 200000] [--seconds 20] [--servers 2]
                                  [--workers 1] [--connections 16]

1. Seeds an approved campaign of N members and launches it (`launch_campaign`), so every offer
   has a real claim token (read back from its e-mail's outbox row).
2. raw database rate: `claim_with_link` (what POST /claim runs) called directly, in as many
   processes as the web run has connections, each on its own tokens, for the fixed time: what
   the database and the claim use case allow at that concurrency without HTTP. This is the
   limit the web figure is compared with.
3. web: `--servers S` x `makegood serve --workers N` (production settings:
   MAKEGOOD_ENVIRONMENT=production, a secret key, access log on, output discarded), each
   server on its own port, balanced by the driver as a proxy would (processes of one server
   share its port, and the kernel hands a burst of new connections to whichever accepts
   first, often one); a separate process drives
   POST /claim/TOKEN with the form's CSRF field (computed as the claim page would issue it:
   the driver holds the secret key, so no GET is needed) over `--connections` keep-alive
   connections for the fixed time, every request on a fresh token. Latency is from writing
   the request to reading the whole response.
4. Checks in the database: no offer credited twice, and exactly as many claimed offers as
   claims that answered 303 (web) or returned (raw).
5. Where the CPU went during the web run (Linux /proc): milliseconds per claim in the web
   servers, in PostgreSQL and in the driver, against the machine's CPU seconds available.
"""

# SQL here is assembled from the benchmark's own constants.
# ruff: noqa: S603

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from makegood.store.engine import make_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from launch import CAMPAIGN, admin, say, seed, url_for

SECRET = secrets.token_urlsafe(32)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch_and_read_tokens(url: str) -> list[str]:
    from makegood.bootstrap import Container
    from makegood.services.launch import launch_campaign
    from makegood.settings import Settings

    engine = make_engine(url)
    container = Container(settings=Settings(database_url=url, smtp_url=None), engine=engine)
    launch_campaign(container, CAMPAIGN, actor="bench")
    with engine.connect() as conn:
        tokens = list(
            conn.exec_driver_sql(  # the launch e-mails' links, still on their offers
                "SELECT email_token FROM offers WHERE email_state = 'pending' ORDER BY id"
            ).scalars()
        )
    engine.dispose()
    return tokens


def raw_worker(url: str, tokens: list[str], seconds: float, out: Any) -> None:
    from makegood.services.claims import claim_with_link

    engine = make_engine(url)
    done = 0
    began = time.perf_counter()
    for token in tokens:
        if time.perf_counter() - began >= seconds:
            break
        claim_with_link(engine, token, datetime.now(UTC), via="bench")  # what POST /claim does
        done += 1
    out.put((done, time.perf_counter() - began))
    engine.dispose()


def raw_rate(url: str, slices: list[list[str]], seconds: float) -> tuple[int, float]:
    queue: Any = mp.Queue()
    workers = [mp.Process(target=raw_worker, args=(url, s, seconds, queue)) for s in slices]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    claims = sum(r[0] for r in results)
    return claims, claims / max(r[1] for r in results)


async def drive(
    ports: list[int], tokens: list[str], seconds: float, connections: int
) -> dict[str, Any]:
    from makegood.domain.tokens import hash_token
    from makegood.web.csrf import NONCE_COOKIE, csrf_token

    nonce = secrets.token_urlsafe(32)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    feed = iter(tokens)
    deadline = time.perf_counter() + seconds

    async def one_connection(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                token = next(feed, None)
                if token is None:
                    return
                body = f"csrf_token={csrf_token(SECRET, nonce, hash_token(token))}".encode()
                request = (
                    f"POST /claim/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Cookie: {NONCE_COOKIE}={nonce}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode() + body
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1].decode()
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter() - began)
                statuses[status] = statuses.get(status, 0) + 1
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(one_connection(ports[i % len(ports)]) for i in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "statuses": statuses,
        "p50_ms": pct(0.50) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
    }


def driver_main(ports: list[int], tokens: list[str], seconds: float, conns: int, out: Any) -> None:
    out.put(asyncio.run(drive(ports, tokens, seconds, conns)))


def start_servers(
    url: str, count: int, workers: int, tmp: Path
) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    ports = [free_port() for _ in range(count)]
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": url,
        "MAKEGOOD_ENVIRONMENT": "production",
        "MAKEGOOD_SECRET_KEY": SECRET,
        "MAKEGOOD_PUBLIC_URL": "http://127.0.0.1",
        "MAKEGOOD_MAIL_DIR": str(tmp / "mail"),
    }
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                *("-m", "makegood", "serve", "--port", str(port), "--workers", str(workers)),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    deadline = time.monotonic() + 60
    for port in ports:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server on port {port} did not come up")
            time.sleep(0.1)  # waiting for a server to listen, not measuring
    return servers, ports


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every process, by pid, with its command name."""
    ticks = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            data = stat.read_text()
        except OSError:
            continue
        name, _, rest = data.partition("(")[2].rpartition(")")
        fields = rest.split()
        table[int(stat.parent.name)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return table


def cpu_spent(
    before: dict[int, tuple[str, float]],
    after: dict[int, tuple[str, float]],
    servers: set[int],
    driver: int,
) -> dict[str, float]:
    """CPU seconds spent between two `cpu_seconds()` by the servers, PostgreSQL, the driver."""
    spent = {"web servers": 0.0, "postgresql": 0.0, "driver": 0.0, "other": 0.0}
    for pid, (name, seconds) in after.items():
        delta = seconds - before.get(pid, (name, 0.0))[1]
        if pid in servers:
            spent["web servers"] += delta
        elif pid == driver:
            spent["driver"] += delta
        elif name.startswith("postgres"):
            spent["postgresql"] += delta
        else:
            spent["other"] += delta
    return spent


def server_pids(servers: list[subprocess.Popen[bytes]]) -> set[int]:
    """The servers and their worker processes (children of `serve --workers N`)."""
    pids = {s.pid for s in servers}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent in pids:
            pids.add(int(stat.parent.name))
    return pids


def check(url: str) -> dict[str, int]:
    engine = make_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        one = conn.exec_driver_sql
        facts = {
            "claimed_offers": one(
                "SELECT count(*) FROM offers WHERE state = 'claimed'"
            ).scalar_one(),
            "credits": one("SELECT count(*) FROM credits").scalar_one(),
            "offers_credited_twice": one(
                "SELECT count(*) FROM (SELECT offer_id FROM credits GROUP BY offer_id "
                "HAVING count(*) > 1) AS doubled"
            ).scalar_one(),
        }
    engine.dispose()
    return facts


def report(
    args: argparse.Namespace,
    raw_processes: int,
    raw_claims: int,
    raw_per_second: float,
    web: dict[str, Any],
    spent: dict[str, float],
    facts: dict[str, int],
) -> None:
    ok = web["statuses"].get("303", 0)
    errors = web["requests"] - ok + sum(v for k, v in web["statuses"].items() if not k.isdigit())
    load = os.getloadavg()[0]
    print(
        f"# claims benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.offers:,} offers, "
        f"{os.cpu_count()} CPUs, load average {load:.1f}"
    )
    print(
        f"raw database claim rate ({raw_processes} processes): {raw_per_second:,.0f} claims/s "
        f"({raw_claims:,} claims)"
    )
    print(
        f"web, {args.servers} server(s) x {args.workers} workers, {args.connections} "
        f"connections: {ok / web['seconds']:,.0f} claims/s, p50 {web['p50_ms']:.1f} ms, "
        f"p99 {web['p99_ms']:.1f} ms, errors {errors} ({json.dumps(web['statuses'])})"
    )
    print(f"web / raw database: {ok / web['seconds'] / raw_per_second:.2f}")
    available = web["seconds"] * (os.cpu_count() or 1)
    print(
        "CPU per claim during the web run: "
        + ", ".join(f"{k} {1000 * v / max(ok, 1):.2f} ms" for k, v in spent.items())
        + f" (CPU used {sum(spent.values()) / available:.0%} of {available:.0f} CPU-seconds)"
    )
    print("targets: >= 1,500 claims/s, p99 <= 50 ms, zero double credits")
    print(
        f"checked: {facts}; expected claimed {raw_claims + ok:,}: "
        f"{'yes' if facts['claimed_offers'] == raw_claims + ok == facts['credits'] else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="processes of each server")
    parser.add_argument("--servers", type=int, default=2, help="servers on their own ports")
    parser.add_argument("--connections", type=int, default=16, help="in all")
    parser.add_argument(
        "--raw-processes", type=int, help="for the raw rate (default: --connections)"
    )
    args = parser.parse_args()
    raw_processes = args.raw_processes or args.connections
    name = f"mg_bench_claims_{secrets.token_hex(3)}"
    url = url_for(name)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        say(f"seeding and launching {args.offers:,} offers ...")
        seed(name, args.offers)
        tokens = launch_and_read_tokens(url)
        half = len(tokens) // 2
        raw_tokens, web_tokens = tokens[:half], tokens[half:]
        say(f"raw database claims, {raw_processes} processes, {args.seconds:.0f} s ...")
        share = len(raw_tokens) // raw_processes
        slices = [raw_tokens[i * share : (i + 1) * share] for i in range(raw_processes)]
        raw_claims, raw_per_second = raw_rate(url, slices, args.seconds)
        import tempfile

        with tempfile.TemporaryDirectory(prefix="makegood-claims-") as tmp:
            say(f"starting {args.servers} web server(s) x {args.workers} worker processes ...")
            servers, ports = start_servers(url, args.servers, args.workers, Path(tmp))
            say(f"driving POST /claim for {args.seconds:.0f} s ...")
            queue: Any = mp.Queue()
            driver = mp.Process(
                target=driver_main,
                args=(ports, web_tokens, args.seconds, args.connections, queue),
            )
            before = cpu_seconds()
            driver.start()
            web = queue.get()
            after = cpu_seconds()
            driver.join()
            spent = cpu_spent(before, after, server_pids(servers), driver.pid or -1)
        facts = check(url)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        with admin().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report(args, raw_processes, raw_claims, raw_per_second, web, spent, facts)


if __name__ == "__main__":
    main()
