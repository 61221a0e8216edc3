"""The signed webhook against a real local HTTP server, and the export/ack file exchange."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.domain.errors import InvalidInput
from makegood.domain.retry import delay
from makegood.services.billing_export import ack_file, export_credits
from makegood.services.billing_push import billing_retry_policy, push
from makegood.store.engine import make_engine
from makegood.store.tables_billing import connector_postings
from tests.factories.billing import add_account, add_credit, add_plan, table_snapshot
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

SECRET = "whsec_test_makegood"
GRANTED = datetime(2026, 3, 21, 12, tzinfo=UTC)


class BillingSystem:
    """A receiver that checks the signature itself (not with our code) and scripts answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        # Statuses to answer first (0: hang up without answering); then 200.
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header = self.headers.get("Makegood-Signature", "")
                parts = dict(p.split("=", 1) for p in header.split(","))
                mac = hmac.new(SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
                valid = hmac.compare_digest(mac.hexdigest(), parts["v1"])
                fresh = abs(time.time() - int(parts["t"])) < 300
                outer.received.append(
                    {
                        "json": json.loads(body),
                        "key": self.headers.get("Idempotency-Key"),
                        "valid": valid and fresh,
                    }
                )
                status = outer.answers.pop(0) if outer.answers else 200
                if status == 0:
                    self.close_connection = True  # no answer at all: the request is lost
                    return
                if not valid:
                    status = 401
                answer = json.dumps({"id": f"bk-{len(outer.received)}"}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/credits"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[BillingSystem]:
    system = BillingSystem()
    yield system
    system.close()


def connected(
    database_url: str, tmp_path: Path, clock: FrozenClock, **overrides: object
) -> Container:
    settings = make_settings(database_url, tmp_path, **{"billing_retry_seconds": 0, **overrides})
    return Container(settings, make_engine(database_url), clock)


def seed(container: Container) -> dict[str, str]:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_plan(uow.conn, "kw", 3500, "KWD")
        add_account(uow.conn, "acc-us")
        add_account(uow.conn, "acc-kw", plan_id="kw")
        us = add_credit(uow.conn, "acc-us", 24, GRANTED, title="Evening outage")
        kw = add_credit(uow.conn, "acc-kw", 105, GRANTED, currency="KWD", plan_id="kw")
        uow.commit()
    return {"us": us["credit_id"], "kw": kw["credit_id"], "us_campaign": us["campaign_id"]}


def test_webhook_posts_signed_json_retries_with_backoff_and_the_same_key(
    database_url: str, tmp_path: Path, clock: FrozenClock, receiver: BillingSystem
) -> None:
    container = connected(
        database_url,
        tmp_path,
        clock,
        billing_connector="webhook",
        billing_webhook_url=receiver.url,
        billing_webhook_secret=SECRET,
        billing_retry_seconds=0.25,
    )
    container = replace(container, rng=random.Random(16))
    ids = seed(container)
    receiver.answers = [503, 429]
    delays: list[float] = []

    summary = push(container, sleep=delays.append)

    assert summary.acked == 2
    # The one back-off (domain/retry.py): full jitter under a ceiling that doubles, 0.25 s
    # then 0.5 s (it was exactly 0.25 then 0.5 s, without jitter, before the rule was shared).
    policy, rng = billing_retry_policy(container), random.Random(16)
    expected = [delay(policy, n, rng).total_seconds() for n in (1, 2)]
    assert delays == pytest.approx(expected)
    assert 0 <= delays[0] <= 0.25
    assert 0 <= delays[1] <= 0.5
    assert all(r["valid"] for r in receiver.received)
    keys = [r["key"] for r in receiver.received]
    assert keys[0] == keys[1] == keys[2]  # the first posting: two retries, one key
    assert len(keys) == 4
    us_key = f"makegood-{ids['us_campaign']}-acc-us"
    [body] = {r["key"]: r["json"] for r in receiver.received if r["key"] == us_key}.values()
    assert body == {
        "type": "credit.apply",
        "posting_id": body["posting_id"],
        "idempotency_key": us_key,
        "credit_id": ids["us"],
        "campaign_id": ids["us_campaign"],
        "account_id": "acc-us",
        "amount_minor": -24,
        "amount": "-0.24",
        "currency": "USD",
        "description": "Make-good credit: Evening outage",
    }
    kw = [r["json"] for r in receiver.received if r["json"]["currency"] == "KWD"]
    assert kw[0]["amount"] == "-0.105"  # KWD has 3 decimals
    with container.uow() as uow:
        assert uow.ledger.balance("acc-us", "USD") == 0
        ext = uow.conn.execute(
            sa.select(connector_postings.c.external_id).where(
                connector_postings.c.account_id == "acc-us"
            )
        ).scalar_one()
    assert ext == f"bk-{max(i for i, r in enumerate(receiver.received, 1) if r['key'] == us_key)}"
    container.engine.dispose()


def test_a_try_without_an_answer_uses_no_attempt(
    database_url: str, tmp_path: Path, clock: FrozenClock, receiver: BillingSystem
) -> None:
    container = connected(
        database_url,
        tmp_path,
        clock,
        billing_connector="webhook",
        billing_webhook_url=receiver.url,
        billing_webhook_secret=SECRET,
        billing_max_attempts=2,
    )
    seed(container)
    receiver.answers = [0, 0, 503]  # two hang-ups, then one "not now": one attempt of two used

    summary = push(container, sleep=lambda _: None)

    # Before one rule served every channel, the hang-ups used both attempts: pending, failed.
    assert (summary.acked, summary.failed, summary.requests) == (2, 0, 5)
    assert summary.errors == []
    container.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_billing_system_that_never_answers_stops_the_push_after_three_tries(
    database_url: str, tmp_path: Path, clock: FrozenClock, receiver: BillingSystem
) -> None:
    down = connected(
        database_url,
        tmp_path,
        clock,
        billing_connector="webhook",
        billing_webhook_url=f"http://127.0.0.1:{free_port()}/credits",
        billing_webhook_secret=SECRET,
    )
    seed(down)

    summary = push(down, sleep=lambda _: None)

    # Three tries in a row without an answer, on the first posting: the push stops there
    # (it used to try every posting MAKEGOOD_BILLING_MAX_ATTEMPTS times, 10 requests here).
    assert (summary.acked, summary.failed, summary.requests) == (0, 1, 3)
    assert summary.errors[-1].startswith("push stopped: the billing system did not answer 3")
    with down.uow() as uow:
        rows = uow.conn.execute(
            sa.select(connector_postings.c.state, connector_postings.c.attempts).order_by(
                connector_postings.c.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [("pending", 3), ("pending", 0)]

    back = push(
        replace(
            down, settings=down.settings.model_copy(update={"billing_webhook_url": receiver.url})
        ),
        sleep=lambda _: None,
    )

    assert (back.acked, back.failed, back.requests) == (2, 0, 2)
    down.engine.dispose()


def test_a_wrong_secret_is_refused_by_the_receiver_and_recorded_as_failed(
    database_url: str, tmp_path: Path, clock: FrozenClock, receiver: BillingSystem
) -> None:
    container = connected(
        database_url,
        tmp_path,
        clock,
        billing_connector="webhook",
        billing_webhook_url=receiver.url,
        billing_webhook_secret="not-the-secret",
    )
    seed(container)
    summary = push(container, sleep=lambda _: None)
    assert (summary.acked, summary.failed) == (0, 2)
    assert not any(r["valid"] for r in receiver.received)
    assert len(receiver.received) == 2  # a 401 is a refusal: not retried
    container.engine.dispose()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_then_ack_settles_credits_once(
    database_url: str, tmp_path: Path, clock: FrozenClock, suffix: str
) -> None:
    container = connected(database_url, tmp_path, clock, billing_connector="export")
    ids = seed(container)
    out = tmp_path / f"credits{suffix}"

    assert export_credits(container, out) == 2
    if suffix == ".csv":
        with out.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = [{k: str(v) for k, v in r.items()} for r in pq.read_table(out).to_pylist()]
    by_credit = {r["credit_id"]: r for r in rows}
    assert by_credit[ids["kw"]]["amount"] == "-0.105"
    assert by_credit[ids["us"]]["amount_minor"] == "-24"
    assert export_credits(container, out) == 2  # nothing acknowledged yet: same rows again

    ack = tmp_path / "ack.csv"
    ack.write_text(
        "idempotency_key,credit_id,status,external_id,message\n"
        f"{by_credit[ids['us']]['idempotency_key']},,applied,inv-1,\n"
        f",{ids['kw']},rejected,,account closed\n"
    )
    summary = ack_file(container, ack)
    assert (summary.applied, summary.rejected, summary.already) == (1, 1, 0)
    again = ack_file(container, ack)
    assert (again.applied, again.already) == (0, 1)
    with container.uow() as uow:
        assert uow.ledger.balance("acc-us", "USD") == 0
        assert uow.ledger.balance("acc-kw", "KWD") == 105
    assert export_credits(container, out) == 1  # the rejected one is offered again
    container.engine.dispose()


def test_a_bad_ack_file_is_refused_whole_with_file_line_column(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    container = connected(database_url, tmp_path, clock, billing_connector="export")
    ids = seed(container)
    export_credits(container, tmp_path / "out.csv")
    with container.uow() as uow:
        before = table_snapshot(uow.conn)
    ack = tmp_path / "ack.csv"
    ack.write_text(f"credit_id,status\n{ids['us']},applied\nnope,applied\n{ids['kw']},maybe\n")

    with pytest.raises(InvalidInput) as refused:
        ack_file(container, ack)

    assert refused.value.problems == [
        f"{ack}:3: column idempotency_key: 'nope' matches no exported posting",
        f"{ack}:4: column status: 'maybe' must be applied or rejected",
    ]
    with container.uow() as uow:
        assert table_snapshot(uow.conn) == before
        acked = uow.conn.execute(
            sa.select(sa.func.count()).where(connector_postings.c.state == "acked")
        ).scalar_one()
    assert acked == 0
    container.engine.dispose()


def test_export_and_ack_commands(database_url: str, tmp_path: Path, clock: FrozenClock) -> None:
    container = connected(database_url, tmp_path, clock, billing_connector="export")
    seed(container)
    out = tmp_path / "c.csv"
    runner = CliRunner()
    result = runner.invoke(cli, ["billing", "export", "--out", str(out)], obj=container)
    assert result.exit_code == 0, result.output
    with out.open(newline="") as fh:
        keys = [r["idempotency_key"] for r in csv.DictReader(fh)]
    ack = tmp_path / "ack.csv"
    ack.write_text("idempotency_key,status\n" + "".join(f"{k},applied\n" for k in keys))
    result = runner.invoke(cli, ["billing", "ack", str(ack), "--json"], obj=container)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["applied"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("status\napplied\n")
    result = runner.invoke(cli, ["billing", "ack", str(bad)], obj=container)
    assert result.exit_code == 2
    assert f"{bad}:2: column idempotency_key" in result.stderr
    push_result = runner.invoke(cli, ["billing", "push"], obj=container)
    assert push_result.exit_code == 4  # export connector: use export/ack
    container.engine.dispose()
