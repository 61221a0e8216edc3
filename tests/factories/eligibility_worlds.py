"""Generated worlds for checking the bulk eligibility of an engine against domain.policy.decide.

A world is plans (USD, EUR, JPY with no decimals, KWD with three), accounts of every status
(cancelled ones with or without a cancellation instant around the incident's start), a cohort
with unknown accounts, rows the cohort did not keep and each account's failed attempts and
impact, earlier offers, an outage (months of 28 to 31 days), and a policy: tiers by either
measure or one basis; percents with up to six decimals, fixed amounts with zeros, pro rata of
the impact or the outage by day or hour; a floor and a cap or not; plans; status at launch or
at the incident.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from makegood.domain.money import Money
from makegood.domain.policy import (
    AccountFacts,
    Basis,
    Cap,
    CreditPolicy,
    Eligibility,
    Evidence,
    FixedAmount,
    Measure,
    Outage,
    PercentOfPrice,
    ProRata,
    StatusAt,
    Tier,
    decide,
)
from makegood.store.snapshot import EligibilityFiles

CURRENCIES = ("USD", "EUR", "JPY", "KWD")
# Ids a CSV round trip must survive: separators, quotes, spaces, non-ASCII.
AWKWARD_IDS = ("a,1", 'quote"d', " lead", "ünï", "x;y", "a'b")
OUTAGE = Outage(datetime(2026, 3, 22, 12, tzinfo=UTC), datetime(2026, 3, 22, 16, tzinfo=UTC))


@dataclass(frozen=True)
class World:
    plans: dict[str, tuple[int, str]]  # plan_id -> (price_minor, currency)
    # account_id -> (status, plan_id) or (status, plan_id, cancelled_at)
    accounts: dict[str, tuple[Any, ...]]
    cohort: dict[str, bool]  # account_id -> kept
    offered: frozenset[str]
    policy: CreditPolicy
    plan_filter: frozenset[str] | None = None  # joins the policy's eligible plans
    outage: Outage = OUTAGE
    evidence: dict[str, Evidence] = field(default_factory=dict)  # default Evidence(2, 5)

    @property
    def credit(self) -> CreditPolicy:
        if self.plan_filter is None:
            return self.policy
        plans = tuple(sorted(self.plan_filter))
        return replace(self.policy, eligibility=replace(self.policy.eligibility, plans=plans))

    def seen(self, account_id: str) -> Evidence:
        return self.evidence.get(account_id, Evidence(2, 5))

    def expected(self) -> dict[str, tuple[Any, ...]]:
        """account_id -> decided columns (decided_rows' shape), by `decide`."""
        rows = {}
        for account_id, kept in self.cohort.items():
            if not kept:
                continue
            facts = None
            if account_id in self.accounts:
                status, plan_id, *rest = self.accounts[account_id]
                price, currency = self.plans[plan_id]
                cancelled = rest[0] if rest else None
                facts = AccountFacts(status, plan_id, Money(currency, price), cancelled)
            seen = self.seen(account_id)
            d = decide(facts, self.credit, seen, self.outage, account_id in self.offered)
            rows[account_id] = (
                d.excluded.value if d.excluded else None,
                facts.plan_id if facts else None,
                facts.price.currency if facts else None,
                d.amount.minor if d.amount else None,
                seen.impact_minutes,
                d.tier if d.eligible else None,
                d.why.value if d.why else None,
                d.why_count,
            )
        return rows

    def write_files(self, directory: Path) -> EligibilityFiles:
        """The files store.snapshot exports, written the way its SQLite path writes them."""
        start = self.outage.starts_at
        tables: dict[str, list[tuple[object, ...]]] = {
            "accounts": [
                (a, s, p, int(bool(rest) and rest[0] is not None and rest[0] >= start))
                for a, (s, p, *rest) in self.accounts.items()
            ],
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
        rows = []
        for a, kept in self.cohort.items():
            seen = self.seen(a)
            n = seen.failed_attempts
            rows.append((a, n, n, 1_000_000, 2_000_000, None, seen.impact_minutes, kept))
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
# Within every currency's bound of 10,000 units (JPY has no decimals).
amounts = st.one_of(st.integers(min_value=0, max_value=3), st.integers(0, 10_000))


def _money(draw: st.DrawFn) -> dict[str, Money]:
    chosen = draw(st.lists(st.sampled_from(CURRENCIES), unique=True))
    return {c: Money(c, draw(amounts)) for c in chosen}


@st.composite
def bases(draw: st.DrawFn) -> Basis:
    kind = draw(st.sampled_from(["percent", "fixed", "prorata"]))
    if kind == "percent":
        return PercentOfPrice(draw(percents))
    if kind == "fixed":
        return FixedAmount(_money(draw))
    unit = draw(st.sampled_from(["day", "hour"]))
    return ProRata(unit, draw(st.sampled_from(["impact", "outage"])))


@st.composite
def policies(draw: st.DrawFn) -> CreditPolicy:
    cap = None
    if draw(st.booleans()):
        cap = Cap(draw(st.none() | percents | st.just(Decimal(0))), _money(draw))
    floor = _money(draw) if draw(st.booleans()) else {}
    status_at = draw(st.sampled_from(list(StatusAt)))
    measure = draw(st.sampled_from(list(Measure)))
    eligibility = Eligibility(status_at=status_at)
    common: dict[str, Any] = {"cap": cap, "floor": floor, "eligibility": eligibility}
    if draw(st.booleans()):
        return CreditPolicy(basis=draw(bases()), measure=measure, **common)
    starts = draw(st.lists(st.integers(0, 3_000), min_size=1, max_size=4, unique=True))
    tiers = tuple(Tier(s, draw(bases())) for s in starts)
    return CreditPolicy(tiers=tiers, measure=measure, **common)


@st.composite
def outages(draw: st.DrawFn) -> Outage:
    # Starts in months of 28 (2026-02), 29 (2028-02), 30 and 31 days, near their ends too.
    start = draw(
        st.sampled_from(
            [
                datetime(2026, 2, 27, 23, 30, tzinfo=UTC),
                datetime(2028, 2, 29, 20, tzinfo=UTC),
                datetime(2026, 4, 30, 22, 15, 30, tzinfo=UTC),
                datetime(2026, 12, 31, 1, tzinfo=UTC),
                OUTAGE.starts_at,
            ]
        )
    )
    return Outage(start, start + timedelta(seconds=draw(st.integers(1, 3 * 86_400))))


@st.composite
def worlds(draw: st.DrawFn, max_accounts: int = 30) -> World:
    plan_ids = [f"p{i}" for i in range(draw(st.integers(min_value=1, max_value=5)))]
    plans = {p: (draw(prices), draw(st.sampled_from(CURRENCIES))) for p in plan_ids}
    pool = st.one_of(st.text("abc0123", min_size=1, max_size=4), st.sampled_from(AWKWARD_IDS))
    ids = draw(st.lists(pool, unique=True, max_size=max_accounts))
    known = ids[: draw(st.integers(min_value=0, max_value=len(ids)))]
    outage = draw(outages())
    around = st.none() | st.sampled_from(
        [outage.starts_at - timedelta(microseconds=1), outage.starts_at, outage.ends_at]
    )
    accounts = {
        a: (
            draw(st.sampled_from(["active", "active", "paused", "cancelled"])),
            draw(st.sampled_from(plan_ids)),
            draw(around),
        )
        for a in known
    }
    cohort = {a: draw(st.booleans()) or draw(st.booleans()) for a in ids}
    evidence = {a: Evidence(draw(st.integers(1, 50)), draw(st.integers(1, 5_000))) for a in ids}
    offered = frozenset(a for a in ids if draw(st.integers(min_value=0, max_value=4)) == 0)
    plan_filter = draw(st.none() | st.frozensets(st.sampled_from(plan_ids)))
    policy = draw(policies())
    return World(plans, accounts, cohort, offered, policy, plan_filter, outage, evidence)


def decided_rows(conn: Any) -> dict[str, tuple[Any, ...]]:
    """The engine's `decisions` table in World.expected's shape."""
    return {
        r[0]: tuple(r[1:])
        for r in conn.execute(
            "SELECT account_id, excluded_reason, plan_id, currency, amount_minor, "
            "impact_minutes, tier, why, why_count FROM decisions"
        ).fetchall()
    }
