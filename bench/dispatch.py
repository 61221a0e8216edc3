"""Dispatch benchmark: `makegood worker` (one, then two) against a bare aiosmtplib loop.

Prints figures; it is not a test. Run from the repository root (needs PostgreSQL, the same
server the tests use, MAKEGOOD_TEST_DATABASE_URL):

    uv run python bench/dispatch.py [--messages 20000] [--connections 4] [--dkim] [--stored]

Every scenario sends the same kind of messages (claim e-mails of a seeded campaign, rendered
in five languages) to one local SMTP sink (aiosmtpd in its own process). They are seeded as a
launch leaves them, pending on their offers, so the workers also write each e-mail's row as
they take it; with --stored they are rows of `messages` already. The rate is taken at
the sink, from the first to the last accepted message, so interpreter start-up is excluded
for both sides. The bare loop gets the messages already rendered and composed and only sends
them, with as many concurrent connections as one worker uses: it is the ceiling of what a
worker could do on this machine; the worker also renders, locks, marks and records.
With --dkim every message is DKIM-signed (a 2048-bit RSA key made for the run with openssl):
the bare loop gets them signed, the workers sign them as they go.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from makegood.domain.ids import new_id
from makegood.domain.tokens import hash_token, new_token
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade
from makegood.store.offers import LAUNCH_COLUMNS, Offers
from makegood.store.outbox import launch_email_id

ADMIN_URL = os.environ.get(
    "MAKEGOOD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
LOCALES = ("en-US", "fr-FR", "de-DE", "ja-JP", "pt-BR")


# -- the sink (its own process) ---------------------------------------------------------------


def _sink_main(port: int, count: Any, first: Any, last: Any, ready: Any) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            now = time.perf_counter()
            with count.get_lock():
                if count.value == 0:
                    first.value = now
                count.value += 1
                last.value = now
            return "250 2.0.0 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


class Sink:
    """A counting SMTP sink in a separate process; `rate()` is messages/s first to last."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.count = mp.Value("q", 0)
        self.first = mp.Value("d", 0.0)
        self.last = mp.Value("d", 0.0)
        ready = mp.Event()
        self.process = mp.Process(
            target=_sink_main,
            args=(self.port, self.count, self.first, self.last, ready),
            daemon=True,
        )
        self.process.start()
        ready.wait(30)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = 0

    def rate(self) -> tuple[int, float]:
        with self.count.get_lock():
            n, span = int(self.count.value), self.last.value - self.first.value
        return n, (n - 1) / span if n > 1 and span > 0 else 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.join()


# -- the database ----------------------------------------------------------------------------


def fresh_database() -> str:
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"mg_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def drop_database(url: str) -> None:
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    admin.dispose()


def seed(url: str, n: int, now: datetime, stored: bool) -> None:
    """A launched claim campaign with n offers, each with its launch e-mail pending on the
    offer, as a launch leaves it (the worker writes its row when it takes it); with `stored`,
    each e-mail already a row of `messages`, as a launch wrote them before migration 0009."""
    engine = make_engine(url)
    inc, cmp = new_id("inc"), new_id("cmp")
    rows: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("accounts", "cohort", "offers", "messages")
    }
    for i in range(n):
        acc, offer = f"acc-{i:07d}", new_id("ofr")
        token = new_token()
        rows["accounts"].append(
            {
                "account_id": acc,
                "email": f"{acc}@example.com",
                "plan_id": "plan",
                "status": "active",
                "country": "XX",
                "locale": LOCALES[i % len(LOCALES)],
                "next_bill_date": (now + timedelta(days=9)).date(),
                "billing_day": 1,
                "updated_at": now,
            }
        )
        rows["cohort"].append(
            {
                "campaign_id": cmp,
                "account_id": acc,
                "failed_attempts": 3,
                "first_failure_at": now - timedelta(hours=5),
                "last_failure_at": now - timedelta(hours=4),
                "plan_id": "plan",
                "currency": "EUR",
                "amount_minor": 30,
            }
        )
        rows["offers"].append(
            {
                "id": offer,
                "campaign_id": cmp,
                "incident_id": inc,
                "account_id": acc,
                "state": "open",
                "amount_minor": 30,
                "currency": "EUR",
                "plan_id": "plan",
                "created_at": now,
                "expires_at": now + timedelta(days=7),
                "token_hash": hash_token(token),
                "inapp_state": "unread",
                "email_state": None if stored else "pending",
                "email_token": None if stored else token,
            }
        )
        if not stored:
            continue
        rows["messages"].append(
            {
                "id": launch_email_id(offer),
                "offer_id": offer,
                "account_id": acc,
                "channel": "email",
                "template": "offer_claim",
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "claim_token": token,
                "created_at": now,
            }
        )
    with engine.begin() as conn:
        conn.execute(
            sa.insert(t.plans).values(
                plan_id="plan",
                name="Premium",
                monthly_price_minor=999,
                currency="EUR",
                updated_at=now,
            )
        )
        conn.execute(
            sa.insert(t.incidents).values(
                id=inc,
                title="Streaming outage",
                starts_at=now - timedelta(hours=6),
                ends_at=now - timedelta(hours=3),
                regions=[],
                devices=[],
                created_at=now,
                created_by="bench",
            )
        )
        conn.execute(
            sa.insert(t.campaigns).values(
                id=cmp,
                incident_id=inc,
                state="launched",
                mode="claim",
                policy={"kind": "percent", "percent": "3"},
                claim_days=7,
                eligible_plans=None,
                events_source="bench",
                affected_count=n,
                created_at=now,
                created_by="bench",
                launched_at=now,
                launched_by="bench",
            )
        )
        conn.execute(sa.insert(t.accounts), rows["accounts"])
        conn.execute(sa.insert(t.cohort_members), rows["cohort"])
        # As a launch writes them: with the range where their pending e-mails are.
        Offers(conn).insert([tuple(o.get(c) for c in LAUNCH_COLUMNS) for o in rows["offers"]])
        if rows["messages"]:
            conn.execute(sa.insert(t.messages), rows["messages"])
    with engine.connect() as conn:  # fresh tables have no statistics; a live outbox has
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()


# -- the scenarios ---------------------------------------------------------------------------


def dkim_settings(folder: str) -> dict[str, str]:
    key = os.path.join(folder, "dkim.pem")
    subprocess.run(  # noqa: S603 - a fixed command line
        ["openssl", "genrsa", "-out", key, "2048"],  # noqa: S607 - openssl from PATH
        check=True,
        capture_output=True,
    )
    return {
        "MAKEGOOD_DKIM_KEY_PATH": key,
        "MAKEGOOD_DKIM_SELECTOR": "bench",
        "MAKEGOOD_DKIM_DOMAIN": "example.com",
    }


def compose_all(url: str, sink_url: str, dkim: dict[str, str]) -> list[tuple[str, bytes]]:
    """The seeded e-mails rendered and composed exactly as the worker would (not timed)."""
    from makegood.bootstrap import bootstrap
    from makegood.notify.mime import compose_email, dkim_signed
    from makegood.notify.render import render_offer_email
    from makegood.services.outbox_batch import notice_of
    from makegood.settings import Settings

    signing = {k.removeprefix("MAKEGOOD_").lower(): v for k, v in dkim.items()}
    box = bootstrap(Settings(database_url=url, smtp_url=sink_url, **signing))
    now = box.now()
    with box.uow() as uow:  # rolled back: the workers find the outbox as seeded
        due = uow.outbox.lock_due_emails(now, after_id="", limit=10**9, retry_failed_now=True)
        due += uow.outbox.lock_emails(uow.outbox.take_launch_emails(now, 10**9))
    composed = []
    for mail in due:
        rendered = render_offer_email(notice_of(mail, now), box.settings)
        email = compose_email(
            rendered,
            outbox_id=mail.id,
            recipient=mail.recipient,
            locale=mail.locale,
            settings=box.settings,
            now=now,
        )
        composed.append((mail.recipient, dkim_signed(email, box.settings).data))
    box.engine.dispose()
    return composed


async def bare_loop(port: int, messages: list[tuple[str, bytes]], connections: int) -> None:
    """The baseline: `connections` aiosmtplib sessions sending pre-built messages."""
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)

    async def session() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        while not queue.empty():
            rcpt, data = queue.get_nowait()
            await client.sendmail("care@example.com", [rcpt], data)
        await client.quit()

    await asyncio.gather(*(session() for _ in range(connections)))


def run_workers(
    url: str, sink: Sink, workers: int, connections: int, batch: int, dkim: dict[str, str]
) -> float:
    """Run `workers` worker processes with --once; returns their CPU seconds (user + sys)."""
    env = {
        **os.environ,
        "MAKEGOOD_DISPATCH_BATCH_SIZE": str(batch),
        "MAKEGOOD_DATABASE_URL": url,
        "MAKEGOOD_SMTP_URL": sink.url,
        "MAKEGOOD_SMTP_CONNECTIONS": str(connections),
        **dkim,
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "makegood", "worker", "--once"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"a worker exited with {proc.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


Result = tuple[int, float, float]  # messages accepted, messages/s, CPU ms per message


def one_round(
    sink: Sink, n: int, k: int, batch: int, dkim: dict[str, str], stored: bool
) -> dict[str, Result]:
    """One round of the three scenarios; `dkim` holds the MAKEGOOD_DKIM_* settings, if any."""
    now = datetime.now(UTC)
    results: dict[str, Result] = {}
    url = fresh_database()
    try:
        seed(url, n, now, stored)
        messages = compose_all(url, sink.url, dkim)
        sink.reset()
        began = cpu_now()
        asyncio.run(bare_loop(sink.port, messages, k))
        cpu = cpu_now() - began
        sent, rate = sink.rate()
        results["bare aiosmtplib loop"] = (sent, rate, 1000 * cpu / max(1, sent))
        sink.reset()
        cpu = run_workers(url, sink, 1, k, batch, dkim)
        sent, rate = sink.rate()
        results["makegood worker x1"] = (sent, rate, 1000 * cpu / max(1, sent))
    finally:
        drop_database(url)
    url = fresh_database()
    try:
        seed(url, n, now, stored)
        sink.reset()
        cpu = run_workers(url, sink, 2, k, batch, dkim)
        sent, rate = sink.rate()
        results["makegood worker x2"] = (sent, rate, 1000 * cpu / max(1, sent))
    finally:
        drop_database(url)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=4, help="SMTP sessions per sender")
    parser.add_argument("--batch", type=int, default=100, help="MAKEGOOD_DISPATCH_BATCH_SIZE")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    parser.add_argument("--dkim", action="store_true", help="DKIM-sign every message")
    parser.add_argument(
        "--stored",
        action="store_true",
        help="launch e-mails already rows of messages (before migration 0009), not on offers",
    )
    args = parser.parse_args()
    n, k = args.messages, args.connections
    keys = tempfile.TemporaryDirectory()
    dkim: dict[str, str] = {}
    if args.dkim:
        dkim = dkim_settings(keys.name)
    sink = Sink()
    best: dict[str, Result] = {}
    try:
        for number in range(1, args.rounds + 1):
            for name, result in one_round(sink, n, k, args.batch, dkim, args.stored).items():
                print(f"  round {number}: {name:<22}{result[1]:>8.0f} msg/s", file=sys.stderr)
                if name not in best or result[1] > best[name][1]:
                    best[name] = result
    finally:
        sink.stop()
        keys.cleanup()
    bare = best["bare aiosmtplib loop"][1]
    print(
        f"dispatch benchmark: {n} messages{', DKIM-signed' if args.dkim else ''}, "
        f"launch e-mails {'stored' if args.stored else 'on their offers'}, "
        f"{k} SMTP connections per sender, batch {args.batch}, "
        f"best of {args.rounds} rounds, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(f"{'sender':<24}{'sent':>8}{'msg/s':>10}{'vs bare':>9}{'CPU ms/msg':>12}")
    for name, (sent, rate, cpu_ms) in best.items():
        print(f"{name:<24}{sent:>8}{rate:>10.0f}{rate / bare if bare else 0:>9.2f}{cpu_ms:>12.2f}")


if __name__ == "__main__":
    main()
