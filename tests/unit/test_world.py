"""The synthetic demo world: deterministic, consistent, and its outage shows in the cohort."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from makegood.domain.currencies import is_known_currency
from makegood.telemetry.cohort import compute_cohort
from makegood.telemetry.demo_world import World, generate_world

LOCALE_CURRENCY = {
    "en-US": "USD",
    "es-MX": "MXN",
    "en-GB": "GBP",
    "fr-FR": "EUR",
    "es-ES": "EUR",
    "de-DE": "EUR",
    "pt-BR": "BRL",
    "ja-JP": "JPY",
    "ar-KW": "KWD",
}


def small_world(out_dir: Path, seed: int) -> World:
    return generate_world(out_dir, accounts=2_000, days=3, attempts_per_account_day=12, seed=seed)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return small_world(tmp_path_factory.mktemp("world"), seed=7)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def attempt_rows(world: World) -> list[tuple[object, ...]]:
    conn = duckdb.connect()
    rows = conn.execute(
        "SELECT account_id, epoch_us(ts), outcome, error_code, region, device "
        "FROM read_parquet($files) ORDER BY ALL",
        {"files": [str(p) for p in world.attempt_files]},
    ).fetchall()
    conn.close()
    return rows


def test_same_seed_gives_the_same_files_and_another_seed_a_different_world(
    world: World, tmp_path: Path
) -> None:
    again = small_world(tmp_path / "again", seed=7)
    other = small_world(tmp_path / "other", seed=8)
    for name in ("plans.csv", "accounts.csv"):
        assert (again.out_dir / name).read_bytes() == (world.out_dir / name).read_bytes()
    assert attempt_rows(again) == attempt_rows(world)
    assert again.attempts == world.attempts
    assert other.accounts_path.read_bytes() != world.accounts_path.read_bytes()
    assert attempt_rows(other) != attempt_rows(world)


def test_plans_and_accounts_follow_the_data_contract(world: World) -> None:
    plans = {p["plan_id"]: p for p in read_csv(world.plans_path)}
    assert len(plans) == world.plans
    assert {p["currency"] for p in plans.values()} >= {"USD", "EUR", "JPY", "KWD", "BRL", "GBP"}
    assert all(is_known_currency(p["currency"]) for p in plans.values())
    assert plans["standard_jpy"]["monthly_price"] == "990"
    assert plans["standard_kwd"]["monthly_price"] == "3.500"

    accounts = read_csv(world.accounts_path)
    assert len(accounts) == world.accounts
    assert list(accounts[0]) == [
        "account_id",
        "email",
        "plan_id",
        "status",
        "country",
        "locale",
        "next_bill_date",
    ]
    assert accounts[0]["account_id"] == "acc_0000001"
    assert accounts[0]["email"] == "user0000001@example.com"
    for account in accounts:
        assert plans[account["plan_id"]]["currency"] == LOCALE_CURRENCY[account["locale"]]
        assert account["locale"].endswith(account["country"])
    statuses = Counter(a["status"] for a in accounts)
    assert set(statuses) == {"active", "paused", "cancelled"}
    assert statuses["active"] > 0.85 * len(accounts)
    bill_dates = [date.fromisoformat(a["next_bill_date"]) for a in accounts]
    last_log_day = world.outage_starts_at.date() + timedelta(days=1)
    assert min(bill_dates) > last_log_day
    assert max(bill_dates) <= last_log_day + timedelta(days=31)
    assert {d.day for d in bill_dates} >= {29, 30, 31}


def test_attempts_are_utc_microsecond_parquet_with_an_evening_rhythm(world: World) -> None:
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    files = [str(p) for p in world.attempt_files]
    assert len(files) == 3
    types = conn.execute(
        "SELECT DISTINCT logical_type FROM parquet_schema($files) WHERE name = 'ts'",
        {"files": files},
    ).fetchall()
    assert len(types) == 1
    assert "isAdjustedToUTC=1" in types[0][0]
    assert "MICROS" in types[0][0]
    # Japan (UTC+9) watches most in its local evening, 17:00-24:00 = 08:00-15:00 UTC.
    rhythm = conn.execute(
        "SELECT count(*) FILTER (hour(ts) BETWEEN 8 AND 14), count(*) FILTER (hour(ts) BETWEEN "
        "17 AND 23) FROM read_parquet($files) WHERE region = 'ap-northeast'",
        {"files": files},
    ).fetchone()
    assert rhythm is not None  # an aggregate without GROUP BY is always one row
    evening, night = rhythm
    assert evening > 2 * night
    counts = conn.execute(
        "SELECT count(*), count(DISTINCT account_id) FILTER (account_id > $last) "
        "FROM read_parquet($files)",
        {"files": files, "last": f"acc_{world.accounts:07d}"},
    ).fetchone()
    assert counts is not None
    total, unknown = counts
    conn.close()
    assert total == world.attempts
    assert 0 < unknown <= world.unknown_accounts


def test_the_outage_shows_in_the_cohort_of_its_window(world: World) -> None:
    hours = world.outage_ends_at - world.outage_starts_at
    assert timedelta(hours=3) <= hours <= timedelta(hours=6)
    conn = duckdb.connect()
    home = dict(
        conn.execute(
            "SELECT account_id, any_value(region) FROM read_parquet($files) GROUP BY 1",
            {"files": [str(p) for p in world.attempt_files]},
        ).fetchall()
    )
    conn.close()
    with compute_cohort(
        str(world.attempts_dir), world.outage_starts_at, world.outage_ends_at, [], []
    ) as result:
        during = [row.account_id for row in result.rows()]
    day_before = timedelta(days=1)
    with compute_cohort(
        str(world.attempts_dir),
        world.outage_starts_at - day_before,
        world.outage_ends_at - day_before,
        [],
        [],
    ) as result:
        calm = result.count
    in_outage_regions = sum(home[a] in world.outage_regions for a in during)
    assert in_outage_regions > 0.9 * len(during)
    assert len(during) > 10 * max(calm, 1)
    assert any(a > f"acc_{world.accounts:07d}" for a in during)  # unknown accounts too
