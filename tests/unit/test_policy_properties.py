"""Properties of every policy: the cap bounds the amount, the floor lifts it unless the cap is
lower, and the amount grows with the measure when the tiers' amounts do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from makegood.domain.money import Money
from makegood.domain.policy import (
    AccountFacts,
    Basis,
    Cap,
    CreditPolicy,
    Evidence,
    FixedAmount,
    Measure,
    Outage,
    PercentOfPrice,
    ProRata,
    Tier,
    decide,
)

CURRENCIES = ("USD", "JPY", "KWD")
percents = st.decimals(min_value=0, max_value=100, places=2)
minor = st.integers(min_value=0, max_value=10_000)  # within every bound (JPY 10,000)


@st.composite
def outages(draw: st.DrawFn) -> Outage:
    # hypothesis wants naive bounds; the drawn instants are made aware UTC.
    bounds = datetime(2024, 1, 1), datetime(2030, 12, 31)  # noqa: DTZ001
    start = draw(st.datetimes(*bounds, timezones=st.just(UTC)))
    return Outage(start, start + timedelta(minutes=draw(st.integers(1, 20_000))))


@st.composite
def bases(draw: st.DrawFn) -> Basis:
    kind = draw(st.sampled_from(["percent", "fixed", "prorata"]))
    if kind == "percent":
        return PercentOfPrice(draw(percents), allow_zero=True)
    if kind == "fixed":
        amounts = draw(st.dictionaries(st.sampled_from(CURRENCIES), minor, max_size=3))
        return FixedAmount({c: Money(c, v) for c, v in amounts.items()})
    return ProRata(
        draw(st.sampled_from(["day", "hour"])), draw(st.sampled_from(["impact", "outage"]))
    )


@st.composite
def caps(draw: st.DrawFn) -> Cap | None:
    if draw(st.booleans()):
        return None
    amounts = draw(st.dictionaries(st.sampled_from(CURRENCIES), minor, max_size=3))
    percent = draw(st.none() | percents)
    return Cap(percent, {c: Money(c, v) for c, v in amounts.items()})


floors = st.dictionaries(st.sampled_from(CURRENCIES), minor, max_size=3).map(
    lambda d: {c: Money(c, v) for c, v in d.items()}
)


@st.composite
def policies(draw: st.DrawFn) -> CreditPolicy:
    cap, floor = draw(caps()), draw(floors)
    measure = draw(st.sampled_from(list(Measure)))
    if draw(st.booleans()):
        return CreditPolicy(basis=draw(bases()), cap=cap, floor=floor, measure=measure)
    starts = draw(st.lists(st.integers(0, 2_000), min_size=1, max_size=4, unique=True))
    tiers = tuple(Tier(s, draw(bases())) for s in starts)
    return CreditPolicy(tiers=tiers, cap=cap, floor=floor, measure=measure)


accounts = st.builds(
    lambda cur, price: AccountFacts("active", "p", Money(cur, price)),
    st.sampled_from(CURRENCIES),
    st.integers(0, 1_000_000),
)
evidence = st.builds(Evidence, st.integers(1, 5_000), st.integers(1, 50_000))


@given(policies(), accounts, evidence, outages())
def test_the_cap_bounds_and_the_floor_lifts(
    policy: CreditPolicy, facts: AccountFacts, seen: Evidence, outage: Outage
) -> None:
    decision = decide(facts, policy, seen, outage)
    if decision.amount is None:
        return
    cap = policy.cap.limit(facts.price) if policy.cap else None
    floor = policy.floor.get(facts.price.currency)
    if cap is not None:
        assert decision.amount <= cap
    if floor is not None and (cap is None or cap >= floor):
        assert decision.amount >= floor
    assert decision.amount.minor > 0
    assert decision.amount.currency == facts.price.currency


@st.composite
def growing_policies(draw: st.DrawFn) -> CreditPolicy:
    """Tiers whose amounts grow with at_least: percents in the same order as the thresholds,
    or pro rata of the account's impact (which grows with it)."""
    starts = sorted(draw(st.lists(st.integers(0, 2_000), min_size=1, max_size=4, unique=True)))
    if draw(st.booleans()):
        ps = sorted(draw(st.lists(percents, min_size=len(starts), max_size=len(starts))))
        tiers = tuple(
            Tier(s, PercentOfPrice(p, allow_zero=True)) for s, p in zip(starts, ps, strict=True)
        )
        measure = draw(st.sampled_from(list(Measure)))
    else:
        unit = draw(st.sampled_from(["day", "hour"]))
        tiers = tuple(Tier(s, ProRata(unit, "impact")) for s in starts)
        measure = Measure.IMPACT_MINUTES
    return CreditPolicy(tiers=tiers, cap=draw(caps()), floor=draw(floors), measure=measure)


@given(growing_policies(), accounts, evidence, st.integers(0, 5_000), outages())
def test_monotone_in_the_measure_when_the_tiers_amounts_are(
    policy: CreditPolicy, facts: AccountFacts, seen: Evidence, more: int, outage: Outage
) -> None:
    bigger = Evidence(seen.failed_attempts + more, seen.impact_minutes + more)
    low = decide(facts, policy, seen, outage).amount
    high = decide(facts, policy, bigger, outage).amount
    assert (low.minor if low else 0) <= (high.minor if high else 0)


@given(st.integers(1, 10**9), st.integers(1, 200_000), outages())
def test_prorata_never_rounds_a_started_day_away(price: int, minutes: int, outage: Outage) -> None:
    facts = AccountFacts("active", "p", Money("USD", price))
    n = ProRata("day", "impact").units(Evidence(1, minutes), outage)
    assert (n - 1) * 1_440 < minutes <= n * 1_440
    amount = decide(facts, CreditPolicy(basis=ProRata()), Evidence(1, minutes), outage).amount
    days = outage.units_in_month("day")
    exact = Decimal(price) * n / days
    assert amount is None or abs(Decimal(amount.minor) - exact) <= Decimal("0.5")
