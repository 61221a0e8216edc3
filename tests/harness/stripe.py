"""A local stand-in for api.stripe.com, and settings that point the connector at it."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from makegood.settings import Settings
from tests.harness.settings import make_settings


class FakeStripe:
    """A local stand-in for api.stripe.com that records every request and answers like Stripe.

    It implements what the connector relies on: POST /v1/customers/{id}/balance_transactions,
    idempotency (a repeated Idempotency-Key replays the first answer and creates nothing),
    scripted failures per key (`fail[key] = [429, 500]` answers those first), unknown customers
    (404), and a gate: with `hold_after = N`, request N+1 is processed and recorded but its
    answer waits until `release()` (the crash test kills the client meanwhile).
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.created: dict[str, dict[str, Any]] = {}  # idempotency key -> transaction
        self.fail: dict[str, list[int]] = {}
        self.unknown_customers: set[str] = set()
        self.hold_after: int | None = None
        self._gate = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                status, answer, held = fake._answer(self.path, dict(self.headers), body)
                if held:
                    fake._gate.wait(timeout=60)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client was killed while we held its answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeStripe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def release(self) -> None:
        self._gate.set()

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def keys_sent(self) -> list[str]:
        with self._lock:
            return [r["idempotency_key"] for r in self.requests]

    def _answer(
        self, path: str, headers: dict[str, str], body: str
    ) -> tuple[int, dict[str, Any], bool]:
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        key = headers.get("Idempotency-Key", "")
        with self._lock:
            self.requests.append(
                {
                    "path": path,
                    "idempotency_key": key,
                    "form": form,
                    "authorization": headers.get("Authorization", ""),
                }
            )
            held = self.hold_after is not None and len(self.requests) > self.hold_after
            scripted = self.fail.get(key)
            if scripted:
                status = scripted.pop(0)
                kind = "rate_limit_error" if status == 429 else "api_error"
                return status, {"error": {"type": kind, "message": f"scripted {status}"}}, held
            parts = path.strip("/").split("/")
            if (
                len(parts) != 4
                or parts[:2] != ["v1", "customers"]
                or parts[3] != ("balance_transactions")
            ):
                return 404, {"error": {"type": "invalid_request_error", "message": path}}, held
            customer = parts[2]
            if customer in self.unknown_customers:
                message = f"No such customer: '{customer}'"
                return 404, {"error": {"type": "invalid_request_error", "message": message}}, held
            if key in self.created:
                return 200, self.created[key], held
            transaction = {
                "id": f"cbtxn_{len(self.created) + 1}",
                "object": "customer_balance_transaction",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "customer": customer,
                "description": form.get("description"),
                "metadata": {
                    k[len("metadata[") : -1]: v
                    for k, v in form.items()
                    if k.startswith("metadata[")
                },
                "type": "adjustment",
            }
            self.created[key] = transaction
            return 200, transaction, held


def stripe_settings(
    database_url: str, tmp_path: Path, fake: FakeStripe, **overrides: object
) -> Settings:
    """Test settings with the Stripe connector pointed at `fake`, unpaced, retrying at once."""
    return make_settings(
        database_url,
        tmp_path,
        billing_connector="stripe",
        stripe_api_key="sk_test_makegood",
        stripe_api_base=fake.url,
        stripe_rate_per_second=0,
        billing_retry_seconds=0,
        **overrides,
    )
