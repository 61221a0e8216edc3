"""Eligibility: one reason per account, the first that applies, in the documented order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from makegood.domain.money import Money, MoneyError
from makegood.domain.policy import (
    AccountFacts,
    Exclusion,
    FixedAmount,
    PercentOfPrice,
    decide,
    parse_percent,
    policy_from_json,
)

USD = AccountFacts("active", "basic", Money.parse("7.99", "USD"))


def test_origin_case_offers_three_percent() -> None:
    decision = decide(USD, PercentOfPrice(), None)
    assert decision.eligible
    assert decision.amount == Money("USD", 24)


def test_unknown_account_comes_first() -> None:
    assert decide(None, PercentOfPrice(), ["nothing"]).excluded is Exclusion.UNKNOWN_ACCOUNT


def test_not_active_before_plan_not_eligible() -> None:
    paused = AccountFacts("paused", "basic", Money.parse("7.99", "USD"))
    assert decide(paused, PercentOfPrice(), ["premium"]).excluded is Exclusion.NOT_ACTIVE


def test_plan_not_eligible_before_currency() -> None:
    policy = FixedAmount({"EUR": Money("EUR", 100)})
    assert decide(USD, policy, ["premium"]).excluded is Exclusion.PLAN_NOT_ELIGIBLE
    assert decide(USD, policy, None).excluded is Exclusion.NO_AMOUNT_FOR_CURRENCY


def test_zero_amount_is_excluded() -> None:
    cheap = AccountFacts("active", "basic", Money.parse("0.10", "USD"))
    assert decide(cheap, PercentOfPrice(Decimal(3)), None).excluded is Exclusion.ZERO_AMOUNT
    assert (
        decide(USD, FixedAmount({"USD": Money("USD", 0)}), None).excluded is Exclusion.ZERO_AMOUNT
    )


def test_already_offered_comes_last() -> None:
    assert (
        decide(USD, PercentOfPrice(), None, already_offered=True).excluded
        is Exclusion.ALREADY_OFFERED
    )


def test_fixed_amount_by_currency() -> None:
    yen = AccountFacts("active", "jp", Money.parse("990", "JPY"))
    policy = FixedAmount({"USD": Money.parse("5", "USD"), "JPY": Money.parse("500", "JPY")})
    assert decide(yen, policy, None).amount == Money("JPY", 500)
    assert decide(USD, policy, None).amount == Money("USD", 500)


@pytest.mark.parametrize("percent", ["0", "-1", "101", "NaN"])
def test_percent_must_be_in_range(percent: str) -> None:
    with pytest.raises(MoneyError):
        PercentOfPrice(Decimal(percent))


def test_policies_round_trip_through_json() -> None:
    for policy in (PercentOfPrice(Decimal("2.5")), FixedAmount({"USD": Money("USD", 500)})):
        assert policy_from_json(policy.to_json()) == policy


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
