"""Credit policies and the eligibility rule of a campaign (pure)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from makegood.domain.money import AMOUNT_PATTERN, Money, MoneyError

PERCENT_DECIMALS = 4
_PERCENT = re.compile(AMOUNT_PATTERN)


class Exclusion(StrEnum):
    """Why an affected account gets no offer; the order is the order in which reasons are tried."""

    UNKNOWN_ACCOUNT = "unknown_account"
    NOT_ACTIVE = "not_active"
    PLAN_NOT_ELIGIBLE = "plan_not_eligible"
    NO_AMOUNT_FOR_CURRENCY = "no_amount_for_currency"
    ZERO_AMOUNT = "zero_amount"
    ALREADY_OFFERED = "already_offered"


class Mode(StrEnum):
    CLAIM = "claim"
    AUTO = "auto"


@dataclass(frozen=True, slots=True)
class PercentOfPrice:
    """A share of the plan's monthly price (the origin case: 3 %)."""

    percent: Decimal = Decimal(3)

    def __post_init__(self) -> None:
        if not self.percent.is_finite() or self.percent <= 0 or self.percent > 100:
            raise MoneyError("percent must be greater than 0 and at most 100")

    def amount_for(self, price: Money) -> Money | None:
        return price.percent(self.percent)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "percent", "percent": str(self.percent)}


@dataclass(frozen=True, slots=True)
class FixedAmount:
    """The same amount for everyone, given per currency; other currencies get nothing."""

    amounts: Mapping[str, Money] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for cur, money in self.amounts.items():
            if money.currency != cur:
                raise MoneyError(f"fixed amount for {cur} is in {money.currency}")
            if money.minor < 0:
                raise MoneyError(f"fixed amount for {cur} is negative")

    def amount_for(self, price: Money) -> Money | None:
        return self.amounts.get(price.currency)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "fixed", "amounts": {c: m.minor for c, m in sorted(self.amounts.items())}}


Policy = PercentOfPrice | FixedAmount


def parse_percent(text: str) -> Decimal:
    """A percent as a person writes it ("3", "2.5"): the syntax of an amount, at most four
    decimals, greater than 0 and at most 100; MoneyError otherwise (bounded cost, like money)."""
    body = text.strip()
    if len(body) > 20 or not _PERCENT.fullmatch(body):
        raise MoneyError(
            f"{body[:20]!r} is not a number; write a percent such as 3 or 2.5 "
            "(digits, at most one point)"
        )
    if len(body.partition(".")[2].rstrip("0")) > PERCENT_DECIMALS:
        raise MoneyError(f"percent has more than {PERCENT_DECIMALS} decimals")
    value = Decimal(body)
    if value <= 0 or value > 100:
        raise MoneyError("percent must be greater than 0 and at most 100")
    return value


def policy_from_json(data: Mapping[str, Any]) -> Policy:
    """Inverse of `to_json` for the stored policy of a campaign."""
    if data["kind"] == "percent":
        return PercentOfPrice(Decimal(data["percent"]))
    if data["kind"] == "fixed":
        return FixedAmount({c: Money(c, int(v)) for c, v in data["amounts"].items()})
    raise ValueError(f"unknown policy kind {data['kind']!r}")


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What eligibility needs to know of an account and its plan."""

    status: str
    plan_id: str
    price: Money


@dataclass(frozen=True, slots=True)
class Decision:
    """Either an amount to offer or the one reason there is none."""

    amount: Money | None
    excluded: Exclusion | None

    @property
    def eligible(self) -> bool:
        return self.excluded is None


def decide(
    facts: AccountFacts | None,
    policy: Policy,
    eligible_plans: Collection[str] | None,
    already_offered: bool = False,
) -> Decision:
    """Apply the eligibility rule; the first reason that applies is the one recorded."""
    if facts is None:
        return Decision(None, Exclusion.UNKNOWN_ACCOUNT)
    if facts.status != "active":
        return Decision(None, Exclusion.NOT_ACTIVE)
    if eligible_plans is not None and facts.plan_id not in eligible_plans:
        return Decision(None, Exclusion.PLAN_NOT_ELIGIBLE)
    amount = policy.amount_for(facts.price)
    if amount is None:
        return Decision(None, Exclusion.NO_AMOUNT_FOR_CURRENCY)
    if amount.minor == 0:
        return Decision(None, Exclusion.ZERO_AMOUNT)
    if already_offered:
        return Decision(None, Exclusion.ALREADY_OFFERED)
    return Decision(amount, None)
