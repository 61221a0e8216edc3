"""Input files in the data contract (plans, accounts, attempt logs), for tests."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

PLAN_COLUMNS = ["plan_id", "name", "monthly_price", "currency"]
ACCOUNT_COLUMNS = [
    "account_id",
    "email",
    "plan_id",
    "status",
    "country",
    "locale",
    "next_bill_date",
]
ATTEMPT_COLUMNS = ["account_id", "ts", "outcome", "error_code", "region", "device"]


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def plan(
    plan_id: str = "basic", price: str = "7.99", currency: str = "USD", **kw: object
) -> dict[str, object]:
    return {
        "plan_id": plan_id,
        "name": kw.get("name", f"Plan {plan_id}"),
        "monthly_price": price,
        "currency": currency,
    }


def account(
    account_id: str,
    plan_id: str = "basic",
    status: str = "active",
    locale: str = "en-US",
    next_bill_date: str = "2026-04-01",
    country: str = "US",
    email: str | None = None,
) -> dict[str, object]:
    return {
        "account_id": account_id,
        "email": email or f"{account_id}@example.com",
        "plan_id": plan_id,
        "status": status,
        "country": country,
        "locale": locale,
        "next_bill_date": next_bill_date,
    }


def attempt(
    account_id: str,
    ts: str,
    outcome: str = "failure",
    region: str = "us-east",
    device: str = "tv",
    error_code: str = "E500",
) -> dict[str, object]:
    return {
        "account_id": account_id,
        "ts": ts,
        "outcome": outcome,
        "error_code": error_code if outcome == "failure" else "",
        "region": region,
        "device": device,
    }
