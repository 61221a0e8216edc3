"""Billing benchmark: the cost of the ledger in `billing close`, and of bookkeeping in `push`.

Prints figures; it is not a test. Run from the repository root:

    uv run python bench/billing.py [--accounts 20000] [--postings 1000] [--postgres]

With --postgres every world is a fresh database on the PostgreSQL server the tests use
(MAKEGOOD_TEST_DATABASE_URL), dropped at the end; without it, SQLite files.

- close: N active accounts, each with one credit, closed once (statements, credit lines, one
  `applied` ledger entry per line), against a baseline of the same N accounts without credits
  (charge lines only), both in the same run on fresh SQLite files.
- push: M credits posted through the Stripe connector to a local stand-in for Stripe on
  127.0.0.1 (posting rows, an attempt and an acknowledgement committed per credit, a `posted`
  entry), against a baseline of M bare `stripe` library calls to the same server.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import stripe

from makegood.bootstrap import Container
from makegood.services.billing_close import close_through
from makegood.services.billing_push import push
from makegood.settings import Settings
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.ledger import Ledger
from makegood.store.migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))

NOW = datetime(2026, 3, 25, tzinfo=UTC)


class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    count = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Answer.count += 1
        body = json.dumps({"id": f"cbtxn_{Answer.count}", "object": "customer_balance_transaction"})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


# PostgreSQL databases made by `world`, dropped at the end (with --postgres).
CREATED: list[str] = []


def database_url(directory: Path, name: str, postgres: bool) -> str:
    if not postgres:
        return f"sqlite:///{directory / f'{name}.db'}"
    from launch import admin, url_for

    database = f"mg_bench_billing_{name}_{secrets.token_hex(3)}".replace("-", "_")
    with admin().connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    CREATED.append(database)
    return url_for(database)


def drop_created() -> None:
    if CREATED:
        from launch import admin

        with admin().connect() as conn:
            for database in CREATED:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def world(
    directory: Path, accounts: int, with_credits: bool, stripe_base: str, postgres: bool = False
) -> Container:
    url = database_url(directory, f"bench-{with_credits}-{accounts}", postgres)
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(
        database_url=url,
        billing_connector="stripe" if stripe_base else "statement",
        stripe_api_key="sk_test_bench",
        stripe_api_base=stripe_base or "http://127.0.0.1:9",
        stripe_rate_per_second=0,
    )
    container = Container(settings, engine, lambda: NOW)
    with engine.begin() as conn:
        conn.execute(
            t.plans.insert().values(
                plan_id="basic",
                name="Basic",
                monthly_price_minor=799,
                currency="USD",
                updated_at=NOW,
            )
        )
        conn.execute(
            t.incidents.insert().values(
                id="inc",
                title="Outage",
                starts_at=NOW,
                ends_at=NOW.replace(hour=1),
                regions=[],
                devices=[],
                created_at=NOW,
                created_by="bench",
            )
        )
        conn.execute(
            t.campaigns.insert().values(
                id="cmp",
                incident_id="inc",
                state="launched",
                mode="auto",
                policy={},
                claim_days=7,
                events_source="bench",
                affected_count=accounts,
                created_at=NOW,
                created_by="bench",
            )
        )
        ids = [f"acc-{n:07d}" for n in range(accounts)]
        conn.execute(
            t.accounts.insert(),
            [
                {
                    "account_id": a,
                    "email": f"{a}@example.com",
                    "plan_id": "basic",
                    "status": "active",
                    "country": "US",
                    "locale": "en-US",
                    "next_bill_date": date(2026, 4, 1),
                    "billing_day": 1,
                    "updated_at": NOW,
                    "stripe_customer_id": f"cus_{a}",
                }
                for a in ids
            ],
        )
        if with_credits:
            offers = [
                {
                    "id": f"ofr-{a}",
                    "campaign_id": "cmp",
                    "incident_id": "inc",
                    "account_id": a,
                    "state": "granted",
                    "amount_minor": 24,
                    "currency": "USD",
                    "plan_id": "basic",
                    "created_at": NOW,
                    "expires_at": NOW,
                }
                for a in ids
            ]
            credits = [
                {
                    "id": f"crd-{a}",
                    "offer_id": f"ofr-{a}",
                    "account_id": a,
                    "campaign_id": "cmp",
                    "amount_minor": 24,
                    "currency": "USD",
                    "granted_at": NOW,
                    "applied_minor": 0,
                }
                for a in ids
            ]
            conn.execute(t.offers.insert(), offers)
            conn.execute(t.credits.insert(), credits)
            Ledger(conn).add_grants(credits, NOW)
    return container


def timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--postings", type=int, default=1_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, not SQLite")
    args = parser.parse_args()
    try:
        run(args)
    finally:
        drop_created()


def run(args: argparse.Namespace) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        plain = world(directory, args.accounts, False, "", args.postgres)
        credited = world(directory, args.accounts, True, "", args.postgres)
        baseline = timed(lambda: close_through(plain, date(2026, 4, 1)))
        with_ledger = timed(lambda: close_through(credited, date(2026, 4, 1)))
        where = "PostgreSQL" if args.postgres else "SQLite"
        print(
            f"close ({where}), {args.accounts:,} accounts: charges only {baseline:.2f}s, "
            f"with one credit each (credit lines + ledger entries) {with_ledger:.2f}s, "
            f"ratio {with_ledger / baseline:.2f}"
        )

        client = stripe.StripeClient("sk_test_bench", base_addresses={"api": base})
        bare = timed(
            lambda: [
                client.v1.customers.balance_transactions.create(
                    f"cus_{n}",
                    params={"amount": -24, "currency": "usd"},
                    options={"idempotency_key": f"bare-{n}"},
                )
                for n in range(args.postings)
            ]
        )
        pushing = world(directory, args.postings, True, base, args.postgres)
        pushed = timed(lambda: push(pushing))
        print(
            f"push, {args.postings:,} credits to a local Stripe: bare library calls {bare:.2f}s "
            f"({args.postings / bare:,.0f}/s), push with postings, ledger and a commit per "
            f"credit {pushed:.2f}s ({args.postings / pushed:,.0f}/s), ratio {pushed / bare:.2f}"
        )
    server.shutdown()


if __name__ == "__main__":
    main()
