"""Generated worlds for checking the bulk eligibility of an engine against domain.policy.decide.

A world is plans (USD, EUR, JPY with no decimals, KWD with three), accounts of every status,
a cohort with unknown accounts and rows the cohort did not keep, earlier offers, a policy
(percent with up to six decimals, or fixed amounts for some currencies, zero included) and a
plan filter (none, some plans, or none at all).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from makegood.domain.money import Money
from makegood.domain.policy import AccountFacts, FixedAmount, PercentOfPrice, Policy, decide
from makegood.store.snapshot import EligibilityFiles

CURRENCIES = ("USD", "EUR", "JPY", "KWD")
# Ids a CSV round trip must survive: separators, quotes, spaces, non-ASCII.
AWKWARD_IDS = ("a,1", 'quote"d', " lead", "ünï", "x;y", "a'b")


@dataclass(frozen=True)
class World:
    plans: dict[str, tuple[int, str]]  # plan_id -> (price_minor, currency)
    accounts: dict[str, tuple[str, str]]  # account_id -> (status, plan_id)
    cohort: dict[str, bool]  # account_id -> kept
    offered: frozenset[str]
    policy: Policy
    plan_filter: frozenset[str] | None

    def expected(self) -> dict[str, tuple[Any, ...]]:
        """account_id -> (excluded_reason, plan_id, currency, amount_minor), by `decide`."""
        rows = {}
        for account_id, kept in self.cohort.items():
            if not kept:
                continue
            facts = None
            if account_id in self.accounts:
                status, plan_id = self.accounts[account_id]
                price, currency = self.plans[plan_id]
                facts = AccountFacts(status, plan_id, Money(currency, price))
            d = decide(facts, self.policy, self.plan_filter, account_id in self.offered)
            rows[account_id] = (
                d.excluded.value if d.excluded else None,
                facts.plan_id if facts else None,
                facts.price.currency if facts else None,
                d.amount.minor if d.amount else None,
            )
        return rows

    def write_files(self, directory: Path) -> EligibilityFiles:
        """The files store.snapshot exports, written the way its SQLite path writes them."""
        tables = {
            "accounts": [(a, s, p) for a, (s, p) in self.accounts.items()],
            "plans": [(p, price, cur) for p, (price, cur) in self.plans.items()],
            "offered": [(a,) for a in sorted(self.offered)],
        }
        for name, rows in tables.items():
            with (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as out:
                csv.writer(out, lineterminator="\n").writerows(rows)
        return EligibilityFiles(*(str(directory / f"{n}.csv") for n in tables))

    def load_cohort(self, conn: Any) -> None:
        """The engine's `cohort` table (telemetry.cohort.CohortResult's layout)."""
        conn.execute(
            "CREATE TEMP TABLE cohort (account_id VARCHAR, failed_attempts BIGINT, copies BIGINT,"
            " first_us BIGINT, last_us BIGINT, success_us BIGINT, impact_minutes BIGINT,"
            " kept BOOLEAN)"
        )
        rows = [(a, 2, 2, 1_000_000, 2_000_000, None, 5, k) for a, k in self.cohort.items()]
        if rows:
            conn.executemany("INSERT INTO cohort VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


percents = st.one_of(
    st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(100), places=6),
    st.integers(min_value=1, max_value=100).map(Decimal),
    st.sampled_from([Decimal("0.5"), Decimal("3"), Decimal("12.5"), Decimal("33.333333")]),
)
prices = st.one_of(
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=5_000),
    st.integers(min_value=0, max_value=10**15),
    st.sampled_from([0, 1, 50, 799, 1_650, 3_333, 16_667]),
)

amounts = st.one_of(
    st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=10**9)
)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    if draw(st.booleans()):
        return PercentOfPrice(draw(percents))
    chosen = draw(st.lists(st.sampled_from(CURRENCIES), unique=True))
    return FixedAmount({c: Money(c, draw(amounts)) for c in chosen})


@st.composite
def worlds(draw: st.DrawFn, max_accounts: int = 30) -> World:
    plan_ids = [f"p{i}" for i in range(draw(st.integers(min_value=1, max_value=5)))]
    plans = {p: (draw(prices), draw(st.sampled_from(CURRENCIES))) for p in plan_ids}
    pool = st.one_of(st.text("abc0123", min_size=1, max_size=4), st.sampled_from(AWKWARD_IDS))
    ids = draw(st.lists(pool, unique=True, max_size=max_accounts))
    known = ids[: draw(st.integers(min_value=0, max_value=len(ids)))]
    accounts = {
        a: (
            draw(st.sampled_from(["active", "active", "paused", "cancelled"])),
            draw(st.sampled_from(plan_ids)),
        )
        for a in known
    }
    cohort = {a: draw(st.booleans()) or draw(st.booleans()) for a in ids}
    offered = frozenset(a for a in ids if draw(st.integers(min_value=0, max_value=4)) == 0)
    plan_filter = draw(st.none() | st.frozensets(st.sampled_from(plan_ids)))
    return World(plans, accounts, cohort, offered, draw(policies()), plan_filter)


def decided_rows(conn: Any) -> dict[str, tuple[Any, ...]]:
    """The engine's `decisions` table in World.expected's shape."""
    return {
        r[0]: tuple(r[1:])
        for r in conn.execute(
            "SELECT account_id, excluded_reason, plan_id, currency, amount_minor FROM decisions"
        ).fetchall()
    }
