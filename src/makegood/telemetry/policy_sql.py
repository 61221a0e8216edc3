"""A credit policy as SQL expressions, the same for DuckDB and Spark (telemetry.eligibility).

domain.policy is the reference; this module writes its rules over the columns of one cohort
account joined with its plan (`price_minor`, `currency`, `impact_minutes`, `failed_attempts`):
the tier as a CASE over the thresholds, each basis in exact integers with one half-up rounding
(a percent P = p / 10^k gives price * p / (100 * 10^k); pro rata gives price * N / D), then the
floor and the cap. Every literal is an integer computed here or an ISO 4217 code the policy
document checked, so the SQL holds no user text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from makegood.domain.currencies import is_known_currency
from makegood.domain.errors import InvalidInput
from makegood.domain.money import Money
from makegood.domain.policy import (
    MINUTES_PER,
    Basis,
    CreditPolicy,
    Evidence,
    FixedAmount,
    Measure,
    Outage,
    PercentOfPrice,
    ProRata,
)

# At most this many decimals in a percent: price * p then fits a 128-bit integer (DuckDB
# HUGEINT, Spark DECIMAL(38,0)) for any price, and Decimal's 28 digits hold it exactly too.
MAX_PERCENT_DECIMALS = 6


@dataclass(frozen=True)
class Dialect:
    """What differs between DuckDB's and Spark's SQL for these expressions."""

    wide_int: str  # an integer type that holds price * numerator
    int_div: str  # integer division operator


DUCKDB = Dialect(wide_int="HUGEINT", int_div="//")
SPARK = Dialect(wide_int="DECIMAL(38,0)", int_div="div")


def percent_ratio(percent: Decimal) -> tuple[int, int]:
    """percent / 100 as (numerator, denominator) integers; InvalidInput beyond six decimals."""
    normal = percent.normalize()
    decimals = max(0, -int(normal.as_tuple().exponent))
    if decimals > MAX_PERCENT_DECIMALS:
        raise InvalidInput(f"percent {percent}: at most {MAX_PERCENT_DECIMALS} decimals, please")
    return int(normal.scaleb(decimals)), 100 * 10**decimals


def _wide(expr: str, d: Dialect) -> str:
    return f"CAST({expr} AS {d.wide_int})"


def round_div(numerator: str, denominator: int, d: Dialect) -> str:
    """numerator / denominator (a positive integer) rounded half up, as Decimal's ROUND_HALF_UP
    (away from zero for a negative amount), as BIGINT."""
    n, div, two_d = _wide(numerator, d), d.int_div, _wide(str(2 * denominator), d)
    den = _wide(str(denominator), d)
    return (
        f"CAST(CASE WHEN {n} >= 0 THEN (2 * {n} + {den}) {div} {two_d} "
        f"ELSE -((2 * (-{n}) + {den}) {div} {two_d}) END AS BIGINT)"
    )


def percent_sql(percent: Decimal, d: Dialect) -> str:
    numerator, denominator = percent_ratio(percent)
    return round_div(f"{_wide('price_minor', d)} * {_wide(str(numerator), d)}", denominator, d)


def by_currency(amounts: dict[str, Money] | None) -> str:
    """The currency's amount in minor units, NULL for a currency not listed."""
    if not amounts:
        return "CAST(NULL AS BIGINT)"
    for code in amounts:
        if not is_known_currency(code):  # never reached: the document checked the codes
            raise InvalidInput(f"unknown currency {code!r}")
    cases = " ".join(f"WHEN '{c}' THEN {m.minor}" for c, m in amounts.items())
    return f"CAST(CASE currency {cases} ELSE NULL END AS BIGINT)"


def units_sql(basis: ProRata, outage: Outage, d: Dialect) -> str:
    """N: the account's impact (or the outage) in whole days or hours, rounded up."""
    if basis.of == "outage":
        return str(basis.units(Evidence(), outage))
    per = MINUTES_PER[basis.unit]
    return f"((impact_minutes + {per - 1}) {d.int_div} {per})"


def basis_sql(basis: Basis, outage: Outage, d: Dialect) -> str:
    """The basis amount in minor units (NULL: no amount for the currency)."""
    if isinstance(basis, PercentOfPrice):
        return percent_sql(basis.percent, d)
    if isinstance(basis, FixedAmount):
        return by_currency(dict(basis.amounts))
    n = units_sql(basis, outage, d)
    days = outage.units_in_month(basis.unit)
    return round_div(f"{_wide('price_minor', d)} * {_wide(n, d)}", days, d)


@dataclass(frozen=True)
class PolicySql:
    """The expressions of one policy: `tier` (internal index; 0 for a policy without tiers),
    then, over a row holding `t`, the basis, floor and cap; `why` and `why_count` over a row
    holding `t`, `amount` and `basis`."""

    tier: str
    basis: str
    floor: str
    cap: str
    why: str
    why_count: str
    has_tiers: bool


def _cap_sql(policy: CreditPolicy, d: Dialect) -> str:
    cap = policy.cap
    if cap is None:
        return "CAST(NULL AS BIGINT)"
    amount = by_currency(dict(cap.amounts))
    if cap.percent is None:
        return amount
    share = percent_sql(cap.percent, d)
    if not cap.amounts:
        return share
    return f"CASE WHEN {amount} IS NOT NULL AND {amount} < {share} THEN {amount} ELSE {share} END"


def policy_sql(policy: CreditPolicy, outage: Outage, d: Dialect) -> PolicySql:
    """The policy's expressions (see PolicySql) in dialect `d`."""
    measure = "failed_attempts" if policy.measure is Measure.FAILED_ATTEMPTS else "impact_minutes"
    bases = [t.basis for t in policy.tiers] if policy.tiers else [policy.basis]
    if policy.tiers:
        order = sorted(range(len(policy.tiers)), key=lambda i: -policy.tiers[i].at_least)
        whens = " ".join(f"WHEN {measure} >= {policy.tiers[i].at_least} THEN {i}" for i in order)
        tier = f"CASE {whens} ELSE NULL END"
    else:
        tier = "0"
    basis = " ".join(
        f"WHEN {i} THEN {basis_sql(b, outage, d)}" for i, b in enumerate(bases) if b is not None
    )
    service_why, service_count = [], []
    for i, b in enumerate(bases):
        if isinstance(b, ProRata):
            word = "days_of_service" if b.unit == "day" else "hours_of_service"
            service_why.append(f"WHEN t = {i} AND amount = basis THEN '{word}'")
            service_count.append(f"WHEN t = {i} AND amount = basis THEN {units_sql(b, outage, d)}")
    if policy.tiers and policy.measure is Measure.FAILED_ATTEMPTS:
        rest_why, rest_count = ["ELSE 'failed_attempts'"], ["ELSE failed_attempts"]
    else:
        rest_why = [
            "WHEN impact_minutes < 60 THEN 'minutes_without_service'",
            "ELSE 'hours_without_service'",
        ]
        rest_count = [
            "WHEN impact_minutes < 60 THEN impact_minutes",
            f"ELSE (2 * impact_minutes + 60) {d.int_div} 120",
        ]
    why = " ".join([*service_why, *rest_why])
    count = " ".join([*service_count, *rest_count])
    # A CASE needs one WHEN at least: `WHEN true` stands in when only the ELSE is left.
    why = why if why.startswith("WHEN") else f"WHEN true THEN {why[len('ELSE ') :]}"
    count = count if count.startswith("WHEN") else f"WHEN true THEN {count[len('ELSE ') :]}"
    return PolicySql(
        tier=tier,
        basis=f"CAST(CASE t {basis} ELSE NULL END AS BIGINT)",
        floor=by_currency(dict(policy.floor)),
        cap=_cap_sql(policy, d),
        why=f"CASE {why} END",
        why_count=f"CAST(CASE {count} END AS BIGINT)",
        has_tiers=bool(policy.tiers),
    )
