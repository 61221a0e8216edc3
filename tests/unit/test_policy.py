"""Eligibility and amounts: one reason per account, the first that applies, in the documented
order; tiers, bases, floor and cap exactly as docs/policies.md states them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from makegood.domain.money import Money, MoneyError
from makegood.domain.policy import (
    AccountFacts,
    Cap,
    CreditPolicy,
    Eligibility,
    Evidence,
    Exclusion,
    FixedAmount,
    Measure,
    Outage,
    PercentOfPrice,
    ProRata,
    StatusAt,
    Tier,
    Why,
    decide,
    parse_percent,
    single,
)

USD = AccountFacts("active", "basic", Money.parse("7.99", "USD"))
# A four-hour outage starting in April (30 days, 720 hours).
APRIL = Outage(datetime(2026, 4, 30, 22, tzinfo=UTC), datetime(2026, 5, 1, 2, tzinfo=UTC))
ONE = Evidence(failed_attempts=1, impact_minutes=1)


def amount(facts: AccountFacts, policy: CreditPolicy, evidence: Evidence = ONE) -> int | None:
    decision = decide(facts, policy, evidence, APRIL)
    return decision.amount.minor if decision.amount else None


def reason(
    facts: AccountFacts | None, policy: CreditPolicy, evidence: Evidence = ONE
) -> str | None:
    return decide(facts, policy, evidence, APRIL).excluded


def test_origin_case_offers_three_percent() -> None:
    decision = decide(USD, single(PercentOfPrice()), ONE, APRIL)
    assert decision.eligible
    assert decision.amount == Money("USD", 24)


def test_unknown_account_comes_first() -> None:
    assert reason(None, single(PercentOfPrice(), ("nothing",))) is Exclusion.UNKNOWN_ACCOUNT


def test_not_active_before_plan_not_eligible() -> None:
    paused = AccountFacts("paused", "basic", Money.parse("7.99", "USD"))
    assert reason(paused, single(PercentOfPrice(), ("premium",))) is Exclusion.NOT_ACTIVE


def test_plan_not_eligible_before_below_threshold_and_currency() -> None:
    tiers = CreditPolicy(
        tiers=(Tier(30, FixedAmount({"EUR": Money("EUR", 100)})),),
        eligibility=Eligibility(plans=("premium",)),
    )
    assert reason(USD, tiers) is Exclusion.PLAN_NOT_ELIGIBLE
    everyone = CreditPolicy(tiers=tiers.tiers)
    assert reason(USD, everyone) is Exclusion.BELOW_THRESHOLD
    assert reason(USD, everyone, Evidence(1, 30)) is Exclusion.NO_AMOUNT_FOR_CURRENCY


def test_zero_amount_is_excluded() -> None:
    cheap = AccountFacts("active", "basic", Money.parse("0.10", "USD"))
    assert reason(cheap, single(PercentOfPrice(Decimal(3)))) is Exclusion.ZERO_AMOUNT
    assert reason(USD, single(FixedAmount({"USD": Money("USD", 0)}))) is Exclusion.ZERO_AMOUNT


def test_already_offered_comes_last() -> None:
    decision = decide(USD, single(PercentOfPrice()), ONE, APRIL, already_offered=True)
    assert decision.excluded is Exclusion.ALREADY_OFFERED


def test_fixed_amount_by_currency() -> None:
    yen = AccountFacts("active", "jp", Money.parse("990", "JPY"))
    policy = single(FixedAmount({"USD": Money.parse("5", "USD"), "JPY": Money.parse("500", "JPY")}))
    assert amount(yen, policy) == 500
    assert amount(USD, policy) == 500


@pytest.mark.parametrize("percent", ["0", "-1", "101", "NaN"])
def test_percent_shortcut_must_be_in_range(percent: str) -> None:
    with pytest.raises(MoneyError):
        PercentOfPrice(Decimal(percent))


def test_tier_is_the_largest_at_least_not_above_the_measure() -> None:
    # Given out of order on purpose: the rule looks at at_least, not at the position.
    policy = CreditPolicy(
        tiers=(
            Tier(240, FixedAmount({"USD": Money("USD", 500)})),
            Tier(1, PercentOfPrice(Decimal(3))),
            Tier(60, PercentOfPrice(Decimal(10))),
        )
    )
    assert [policy.tier_for(m) for m in (0, 1, 59, 60, 239, 240, 10_000)] == [
        None, 1, 1, 2, 2, 0, 0,
    ]  # fmt: skip
    assert amount(USD, policy, Evidence(1, 59)) == 24
    assert amount(USD, policy, Evidence(1, 60)) == 80  # 79.9 half up
    assert amount(USD, policy, Evidence(1, 240)) == 500


def test_failed_attempts_measure() -> None:
    policy = CreditPolicy(
        tiers=(Tier(3, PercentOfPrice(Decimal(5))),), measure=Measure.FAILED_ATTEMPTS
    )
    assert reason(USD, policy, Evidence(failed_attempts=2, impact_minutes=500)) == "below_threshold"
    assert amount(USD, policy, Evidence(failed_attempts=3, impact_minutes=1)) == 40


@pytest.mark.parametrize(
    ("basis", "minutes", "expected"),
    [
        # 799 x 1 / 30 = 26.63 -> 27: one day, any part of a day counts as a day
        (ProRata("day", "impact"), 1, 27),
        (ProRata("day", "impact"), 1_440, 27),
        (ProRata("day", "impact"), 1_441, 53),  # 799 x 2 / 30 = 53.27
        # 799 x 3 / 720 = 3.329 -> 3 (three hours started)
        (ProRata("hour", "impact"), 121, 3),
        # the outage lasts 240 minutes: 4 hours, 1 day, whatever the account's impact
        (ProRata("hour", "outage"), 1, 4),  # 799 x 4 / 720 = 4.44
        (ProRata("day", "outage"), 1, 27),
    ],
)
def test_prorata(basis: ProRata, minutes: int, expected: int) -> None:
    assert amount(USD, single(basis), Evidence(1, minutes)) == expected


def test_prorata_divides_by_the_month_the_incident_starts_in() -> None:
    feb = Outage(datetime(2028, 2, 29, 23, tzinfo=UTC), datetime(2028, 3, 1, 1, tzinfo=UTC))
    # 2028 is a leap year: 29 days; 1000 x 1 / 29 = 34.48 -> 34
    price = AccountFacts("active", "p", Money("USD", 1_000))
    assert decide(price, single(ProRata()), ONE, feb).amount == Money("USD", 34)
    hours = decide(price, single(ProRata("hour")), Evidence(1, 60), feb).amount
    assert hours == Money("USD", 1)  # 1000 x 1 / 696 = 1.437 -> 1


def test_rounding_is_half_up_once_to_the_minor_unit() -> None:
    kwd = AccountFacts("active", "k", Money.parse("3.500", "KWD"))
    assert amount(kwd, single(PercentOfPrice(Decimal(3)))) == 105
    half = AccountFacts("active", "h", Money("USD", 50))
    assert amount(half, single(PercentOfPrice(Decimal(1)))) == 1  # 0.5 -> 1
    jpy = AccountFacts("active", "j", Money("JPY", 1_500))
    assert amount(jpy, single(ProRata()), Evidence(1, 1)) == 50  # 1500 / 30


def test_floor_lifts_and_cap_wins() -> None:
    floor = CreditPolicy(basis=PercentOfPrice(Decimal(3)), floor={"USD": Money("USD", 100)})
    assert amount(USD, floor) == 100
    both = CreditPolicy(
        basis=PercentOfPrice(Decimal(3)),
        floor={"USD": Money("USD", 100)},
        cap=Cap(amounts={"USD": Money("USD", 50)}),
    )
    assert amount(USD, both) == 50
    # The cap is the smaller of its percent (of the price, rounded half up) and its amount.
    cap = Cap(percent=Decimal("12.5"), amounts={"USD": Money("USD", 600)})
    assert amount(USD, CreditPolicy(basis=FixedAmount({"USD": Money("USD", 900)}), cap=cap)) == 100
    # A floor in another currency, or a cap that does not apply, leaves the basis.
    other = CreditPolicy(
        basis=PercentOfPrice(Decimal(3)),
        floor={"EUR": Money("EUR", 100)},
        cap=Cap(amounts={"EUR": Money("EUR", 1)}),
    )
    assert amount(USD, other) == 24


def test_a_cap_of_zero_gives_zero_amount() -> None:
    policy = CreditPolicy(
        basis=PercentOfPrice(Decimal(3)), floor={"USD": Money("USD", 100)}, cap=Cap(Decimal(0))
    )
    assert reason(USD, policy) is Exclusion.ZERO_AMOUNT


def test_floor_does_not_give_a_currency_fixed_leaves_out() -> None:
    policy = CreditPolicy(
        basis=FixedAmount({"EUR": Money("EUR", 500)}), floor={"USD": Money("USD", 100)}
    )
    assert reason(USD, policy) is Exclusion.NO_AMOUNT_FOR_CURRENCY


def _cancelled(at: datetime | None) -> AccountFacts:
    return AccountFacts("cancelled", "basic", Money.parse("7.99", "USD"), cancelled_at=at)


def test_status_as_of_the_incident() -> None:
    at_incident = single(PercentOfPrice())
    at_incident = CreditPolicy(
        basis=at_incident.basis, eligibility=Eligibility(status_at=StatusAt.INCIDENT)
    )
    start = APRIL.starts_at
    assert reason(_cancelled(start), at_incident) is None  # at the start: still a subscriber
    assert reason(_cancelled(start.replace(day=29)), at_incident) is Exclusion.NOT_ACTIVE
    assert reason(_cancelled(None), at_incident) is Exclusion.NOT_ACTIVE
    paused = AccountFacts("paused", "basic", USD.price, cancelled_at=start)
    assert reason(paused, at_incident) is Exclusion.NOT_ACTIVE
    # As of the launch (the default) nothing changes: cancelled is not active.
    assert reason(_cancelled(start), single(PercentOfPrice())) is Exclusion.NOT_ACTIVE


def test_why_the_amount() -> None:
    days = decide(USD, single(ProRata()), Evidence(1, 1_441), APRIL)
    assert (days.why, days.why_count) == (Why.DAYS_OF_SERVICE, 2)
    hours = decide(USD, single(PercentOfPrice()), Evidence(1, 170), APRIL)
    assert (hours.why, hours.why_count) == (Why.HOURS_WITHOUT_SERVICE, 3)
    minutes = decide(USD, single(PercentOfPrice()), Evidence(1, 25), APRIL)
    assert (minutes.why, minutes.why_count) == (Why.MINUTES_WITHOUT_SERVICE, 25)
    # A capped pro-rata amount does not pay for the days: say how long the service was out.
    capped = CreditPolicy(basis=ProRata(), cap=Cap(amounts={"USD": Money("USD", 30)}))
    decision = decide(USD, capped, Evidence(1, 2_880), APRIL)
    assert decision.amount == Money("USD", 30)
    assert (decision.why, decision.why_count) == (Why.HOURS_WITHOUT_SERVICE, 48)


@pytest.mark.parametrize(
    "text", ["1e600000", "1e-600000", "0", "100.01", "1_0", "\u0663", "-3", "3.00001"]
)
def test_parse_percent_refuses_what_is_not_a_plain_bounded_percent(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_percent(text)


def test_parse_percent_reads_plain_decimals() -> None:
    assert parse_percent(" 3 ") == Decimal(3)
    assert parse_percent("2.5") == Decimal("2.5")
    assert parse_percent("100") == Decimal(100)
