"""Credit policies and the eligibility rule of a campaign (pure); docs/policies.md.

A policy grades the credit by a measure of the account's impact: tiers (the one with the
largest `at_least` not above the measure) each hold one basis (a percent of the monthly price,
a fixed amount per currency, or the price pro rata of days or hours), then a floor and a cap.
`decide` applies it to one account; the bulk engines compute the same amounts set-based and are
checked against it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum

from makegood.domain.money import AMOUNT_PATTERN, Money, MoneyError

PERCENT_DECIMALS = 4
_PERCENT = re.compile(AMOUNT_PATTERN)

# Bounds that catch a typo before it becomes money: no basis above the whole price, no amount
# above 10,000 units of its currency.
MAX_PERCENT = Decimal(100)
MAX_UNITS = Decimal(10_000)
MINUTES_PER = {"day": 1_440, "hour": 60}


class Exclusion(StrEnum):
    """Why an affected account gets no offer; the order is the order in which reasons are tried."""

    UNKNOWN_ACCOUNT = "unknown_account"
    NOT_ACTIVE = "not_active"
    PLAN_NOT_ELIGIBLE = "plan_not_eligible"
    BELOW_THRESHOLD = "below_threshold"
    NO_AMOUNT_FOR_CURRENCY = "no_amount_for_currency"
    ZERO_AMOUNT = "zero_amount"
    ALREADY_OFFERED = "already_offered"


class Mode(StrEnum):
    CLAIM = "claim"
    AUTO = "auto"


class Measure(StrEnum):
    """What tiers compare, as the cohort defines it (docs/cohort.md)."""

    IMPACT_MINUTES = "impact_minutes"
    FAILED_ATTEMPTS = "failed_attempts"


class StatusAt(StrEnum):
    """When an account must have been active: at launch (today's status) or at the outage."""

    LAUNCH = "launch"
    INCIDENT = "incident"


def check_amount(money: Money, what: str) -> Money:
    """`money` when it is within 0 .. 10,000 units of its currency, else MoneyError."""
    if money.minor < 0:
        raise MoneyError(f"{what} {money} {money.currency} is negative")
    if money.to_decimal() > MAX_UNITS:
        raise MoneyError(
            f"{what} {money} {money.currency} is more than {MAX_UNITS} {money.currency}"
        )
    return money


def check_percent(percent: Decimal, what: str = "percent", allow_zero: bool = True) -> Decimal:
    if not percent.is_finite() or percent < 0 or (percent == 0 and not allow_zero):
        low = "at least 0" if allow_zero else "greater than 0"
        raise MoneyError(f"{what} must be {low} and at most {MAX_PERCENT}")
    if percent > MAX_PERCENT:
        raise MoneyError(f"{what} must be at most {MAX_PERCENT} (of the monthly price)")
    return percent


def round_half_up(exact: Decimal) -> int:
    """The one rounding of an amount in minor units: to a whole unit, half up."""
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Outage:
    """The incident's window [starts_at, ends_at), aware UTC."""

    starts_at: datetime
    ends_at: datetime

    @property
    def minutes(self) -> Decimal:
        return Decimal((self.ends_at - self.starts_at).total_seconds()) / 60

    def units_in_month(self, unit: str) -> int:
        """Days (or hours) of the UTC calendar month in which the outage starts."""
        days = calendar.monthrange(self.starts_at.year, self.starts_at.month)[1]
        return days if unit == "day" else days * 24


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the cohort measured of one account."""

    failed_attempts: int = 1
    impact_minutes: int = 1

    def measure(self, measure: Measure) -> int:
        return self.failed_attempts if measure is Measure.FAILED_ATTEMPTS else self.impact_minutes


@dataclass(frozen=True, slots=True)
class PercentOfPrice:
    """A share of the plan's monthly price (the origin case: 3 %)."""

    percent: Decimal = Decimal(3)
    allow_zero: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        check_percent(self.percent, allow_zero=self.allow_zero)

    def amount_for(self, price: Money, evidence: Evidence, outage: Outage) -> Money | None:
        return price.percent(self.percent)


@dataclass(frozen=True, slots=True)
class FixedAmount:
    """The same amount for everyone, given per currency; other currencies get nothing."""

    amounts: Mapping[str, Money] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for cur, money in self.amounts.items():
            if money.currency != cur:
                raise MoneyError(f"fixed amount for {cur} is in {money.currency}")
            check_amount(money, "fixed amount")

    def amount_for(self, price: Money, evidence: Evidence, outage: Outage) -> Money | None:
        return self.amounts.get(price.currency)


@dataclass(frozen=True, slots=True)
class ProRata:
    """price x N / D: N whole days (hours) of impact or of the outage, rounded up; D the days
    (hours) of the UTC month in which the outage starts."""

    unit: str = "day"  # day | hour
    of: str = "impact"  # impact | outage

    def __post_init__(self) -> None:
        if self.unit not in MINUTES_PER:
            raise MoneyError("prorata unit must be day or hour")
        if self.of not in ("impact", "outage"):
            raise MoneyError("prorata of must be impact or outage")

    def units(self, evidence: Evidence, outage: Outage) -> int:
        """N: the minutes divided by a day's (hour's) minutes, rounded up to a whole number."""
        minutes = Decimal(evidence.impact_minutes) if self.of == "impact" else outage.minutes
        per = MINUTES_PER[self.unit]
        return int((minutes / per).to_integral_value(rounding=ROUND_CEILING))

    def amount_for(self, price: Money, evidence: Evidence, outage: Outage) -> Money | None:
        n = self.units(evidence, outage)
        d = outage.units_in_month(self.unit)
        return Money(price.currency, round_half_up(Decimal(price.minor) * n / d))


Basis = PercentOfPrice | FixedAmount | ProRata


@dataclass(frozen=True, slots=True)
class Tier:
    at_least: int
    basis: Basis


@dataclass(frozen=True, slots=True)
class Cap:
    """At most, per account: the smaller of `percent` of the price and the currency's amount."""

    percent: Decimal | None = None
    amounts: Mapping[str, Money] = field(default_factory=dict)

    def limit(self, price: Money) -> Money | None:
        limits = [m for m in (self.amounts.get(price.currency),) if m is not None]
        if self.percent is not None:
            limits.append(price.percent(self.percent))
        return min(limits) if limits else None


@dataclass(frozen=True, slots=True)
class Eligibility:
    plans: tuple[str, ...] | None = None  # None: every plan
    status_at: StatusAt = StatusAt.LAUNCH


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    """A whole policy: tiers (or one basis for everyone), floor, cap and eligibility."""

    tiers: tuple[Tier, ...] = ()
    basis: Basis | None = None  # the basis of a policy without tiers
    measure: Measure = Measure.IMPACT_MINUTES
    cap: Cap | None = None
    floor: Mapping[str, Money] = field(default_factory=dict)
    eligibility: Eligibility = field(default_factory=Eligibility)
    # Keys the document gave explicitly, so it is stored and shown as given (docs/policies.md).
    given: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if (self.basis is None) == (not self.tiers):
            raise MoneyError("a policy holds either tiers or one basis at the top level")

    @property
    def eligible_plans(self) -> tuple[str, ...] | None:
        return self.eligibility.plans

    def tier_for(self, value: int) -> int | None:
        """Index (in the file's order) of the tier with the largest at_least not above `value`."""
        if not self.tiers:
            return None
        best: int | None = None
        for i, tier in enumerate(self.tiers):
            if tier.at_least <= value and (
                best is None or tier.at_least > self.tiers[best].at_least
            ):
                best = i
        return best


def single(basis: Basis, plans: tuple[str, ...] | None = None) -> CreditPolicy:
    """The policy of the `--percent` and `--fixed` shortcuts: one basis for everyone."""
    return CreditPolicy(basis=basis, eligibility=Eligibility(plans=plans))


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What eligibility needs to know of an account and its plan."""

    status: str
    plan_id: str
    price: Money
    cancelled_at: datetime | None = None


class Why(StrEnum):
    """What the subscriber is told the amount is for (with a count)."""

    DAYS_OF_SERVICE = "days_of_service"
    HOURS_OF_SERVICE = "hours_of_service"
    MINUTES_WITHOUT_SERVICE = "minutes_without_service"
    HOURS_WITHOUT_SERVICE = "hours_without_service"
    FAILED_ATTEMPTS = "failed_attempts"


@dataclass(frozen=True, slots=True)
class Decision:
    """Either an amount to offer or the one reason there is none; `tier` indexes the policy's
    tiers; `why` and `why_count` say what the amount is for ("2 days of service")."""

    amount: Money | None
    excluded: Exclusion | None
    tier: int | None = None
    why: Why | None = None
    why_count: int | None = None

    @property
    def eligible(self) -> bool:
        return self.excluded is None


def counts_active(facts: AccountFacts, status_at: StatusAt, outage: Outage) -> bool:
    """Active now; or, as of the incident, cancelled at or after the incident's start."""
    if facts.status == "active":
        return True
    return (
        status_at is StatusAt.INCIDENT
        and facts.status == "cancelled"
        and facts.cancelled_at is not None
        and facts.cancelled_at >= outage.starts_at
    )


def clamp(basis: Money, floor: Money | None, cap: Money | None) -> Money:
    """min(cap, max(floor, basis)): the floor lifts, the cap wins over the floor."""
    amount = max(basis, floor) if floor is not None else basis
    return min(amount, cap) if cap is not None else amount


def decide(
    facts: AccountFacts | None,
    policy: CreditPolicy,
    evidence: Evidence,
    outage: Outage,
    already_offered: bool = False,
) -> Decision:
    """Apply the eligibility rule; the first reason that applies is the one recorded."""
    if facts is None:
        return Decision(None, Exclusion.UNKNOWN_ACCOUNT)
    if not counts_active(facts, policy.eligibility.status_at, outage):
        return Decision(None, Exclusion.NOT_ACTIVE)
    plans = policy.eligibility.plans
    if plans is not None and facts.plan_id not in plans:
        return Decision(None, Exclusion.PLAN_NOT_ELIGIBLE)
    tier = policy.tier_for(evidence.measure(policy.measure))
    if policy.tiers and tier is None:
        return Decision(None, Exclusion.BELOW_THRESHOLD)
    basis = policy.tiers[tier].basis if tier is not None else policy.basis
    assert basis is not None
    raw = basis.amount_for(facts.price, evidence, outage)
    if raw is None:
        return Decision(None, Exclusion.NO_AMOUNT_FOR_CURRENCY, tier)
    cap = policy.cap.limit(facts.price) if policy.cap is not None else None
    amount = clamp(raw, policy.floor.get(facts.price.currency), cap)
    if amount.minor == 0:
        return Decision(None, Exclusion.ZERO_AMOUNT, tier)
    if already_offered:
        return Decision(None, Exclusion.ALREADY_OFFERED, tier)
    why, count = explain(policy, basis, amount == raw, evidence, outage)
    return Decision(amount, None, tier, why, count)


def explain(
    policy: CreditPolicy, basis: Basis, from_basis: bool, evidence: Evidence, outage: Outage
) -> tuple[Why, int]:
    """What to tell the subscriber: the days (hours) a pro-rata amount pays for, else the impact
    (a floor or cap set the amount: the service days would not add up)."""
    if isinstance(basis, ProRata) and from_basis:
        n = basis.units(evidence, outage)
        return (Why.DAYS_OF_SERVICE if basis.unit == "day" else Why.HOURS_OF_SERVICE), n
    if policy.tiers and policy.measure is Measure.FAILED_ATTEMPTS:
        return Why.FAILED_ATTEMPTS, evidence.failed_attempts
    minutes = evidence.impact_minutes
    if minutes < 60:
        return Why.MINUTES_WITHOUT_SERVICE, minutes
    return Why.HOURS_WITHOUT_SERVICE, round_half_up(Decimal(minutes) / 60)


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
