"""The eligibility rule and the amounts of a campaign as one set-based query (DuckDB or Spark).

domain.policy.decide is the reference: this module computes, for every account of a cohort at
once, the same decision — the first exclusion reason that applies, in Exclusion's order, and
the amount in minor units — joining the cohort with the accounts, their plans and the accounts
already offered for the incident. Property tests hold the two equal on generated worlds.

The inputs live in a DuckDB connection (the one that holds the cohort): tables `accounts_in
(account_id, status, plan_id)`, `plans_in (plan_id, price_minor, currency)`, `offered_in
(account_id)`, `fixed_in (currency, amount_minor)` and `plan_filter (plan_id)`. The result is
the table `decisions`, one row per kept cohort account (DECISION_COLUMNS).

A percent is computed exactly in integers: with the percent written as P = p / 10^k,
amount = price * p / (100 * 10^k), rounded half up once: floor((2n + d) / 2d) for n >= 0.
"""

# SQL is assembled from constants; values are bound or are integers computed here.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from makegood.domain.errors import InvalidInput
from makegood.domain.policy import FixedAmount, PercentOfPrice, Policy
from makegood.telemetry.sql import sql_string

if TYPE_CHECKING:
    from makegood.store.snapshot import EligibilityFiles

DECISION_COLUMNS = (
    "account_id",
    "failed_attempts",
    "first_us",
    "last_us",
    "excluded_reason",
    "plan_id",
    "currency",
    "amount_minor",
    "impact_minutes",
)
# At most this many decimals in a percent: price * p then fits a 128-bit integer (DuckDB
# HUGEINT, Spark DECIMAL(38,0)) for any price, and Decimal's 28 digits hold it exactly too.
MAX_PERCENT_DECIMALS = 6


@dataclass(frozen=True, slots=True)
class AmountTerms:
    """A policy as the query needs it: a percent as numerator / denominator, or fixed amounts."""

    kind: str  # "percent" | "fixed"
    numerator: int = 0
    denominator: int = 1
    fixed: tuple[tuple[str, int], ...] = ()


def amount_terms(policy: Policy) -> AmountTerms:
    """The integers the query computes `policy`'s amounts with; InvalidInput if not exact."""
    if isinstance(policy, PercentOfPrice):
        percent = policy.percent.normalize()
        exponent = int(percent.as_tuple().exponent)
        decimals = max(0, -exponent)
        if decimals > MAX_PERCENT_DECIMALS:
            raise InvalidInput(
                f"percent {policy.percent}: at most {MAX_PERCENT_DECIMALS} decimals, please"
            )
        numerator = int(percent.scaleb(decimals))
        return AmountTerms("percent", numerator, 100 * 10**decimals)
    if isinstance(policy, FixedAmount):
        return AmountTerms(
            "fixed", fixed=tuple(sorted((c, m.minor) for c, m in policy.amounts.items()))
        )
    raise InvalidInput(f"policy {policy!r} cannot be computed in bulk")


@dataclass(frozen=True)
class Dialect:
    """What differs between DuckDB's and Spark's SQL for this query."""

    wide_int: str  # an integer type that holds price * numerator
    int_div: str  # integer division operator


DUCKDB = Dialect(wide_int="HUGEINT", int_div="//")
SPARK = Dialect(wide_int="DECIMAL(38,0)", int_div="div")


def _amount_sql(terms: AmountTerms, dialect: Dialect) -> str:
    if terms.kind == "fixed":
        return "fx.amount_minor"
    wide = dialect.wide_int
    n = f"(CAST(f.price_minor AS {wide}) * CAST({terms.numerator} AS {wide}))"
    two_d = f"CAST({2 * terms.denominator} AS {wide})"
    d = f"CAST({terms.denominator} AS {wide})"
    div = dialect.int_div
    # Half up is away from zero for a negative amount, as Decimal's ROUND_HALF_UP.
    return (
        f"CAST(CASE WHEN {n} >= 0 THEN (2 * {n} + {d}) {div} {two_d} "
        f"ELSE -((2 * (-{n}) + {d}) {div} {two_d}) END AS BIGINT)"
    )


def decisions_sql(terms: AmountTerms, filter_plans: bool, dialect: Dialect) -> str:
    """The query over the input tables (module doc) giving DECISION_COLUMNS per account."""
    fixed_join = (
        "LEFT JOIN fixed_in fx ON fx.currency = f.currency" if terms.kind == "fixed" else ""
    )
    plan_check = "listed_plan IS NULL" if filter_plans else "false"
    return f"""
WITH facts AS (
    SELECT a.account_id, a.status, a.plan_id, p.price_minor, p.currency
    FROM accounts_in a JOIN plans_in p ON p.plan_id = a.plan_id
), priced AS (
    SELECT c.account_id, c.failed_attempts, c.first_us, c.last_us, c.impact_minutes,
           f.account_id IS NOT NULL AS known, f.status, f.plan_id, f.currency,
           pf.plan_id AS listed_plan,
           {_amount_sql(terms, dialect)} AS amount,
           o.account_id IS NOT NULL AS offered
    FROM cohort c
    LEFT JOIN facts f ON f.account_id = c.account_id
    LEFT JOIN plan_filter pf ON pf.plan_id = f.plan_id
    LEFT JOIN offered_in o ON o.account_id = c.account_id
    {fixed_join}
    WHERE c.kept
), decided AS (
    SELECT *, CASE
        WHEN NOT known THEN 'unknown_account'
        WHEN status <> 'active' THEN 'not_active'
        WHEN {plan_check} THEN 'plan_not_eligible'
        WHEN amount IS NULL THEN 'no_amount_for_currency'
        WHEN amount = 0 THEN 'zero_amount'
        WHEN offered THEN 'already_offered'
    END AS excluded_reason
    FROM priced
)
SELECT account_id, failed_attempts, first_us, last_us, excluded_reason, plan_id, currency,
       CASE WHEN excluded_reason IS NULL THEN amount END AS amount_minor, impact_minutes
FROM decided
"""


def load_inputs(conn: Any, accounts_csv: str, plans_csv: str, offered_csv: str) -> None:
    """`accounts_in`, `plans_in` and `offered_in` from headerless CSV files (store.snapshot
    writes them): read by DuckDB in parallel, never through Python rows."""
    tables = (
        (
            "accounts_in",
            accounts_csv,
            "{'account_id': 'VARCHAR', 'status': 'VARCHAR', 'plan_id': 'VARCHAR'}",
        ),
        (
            "plans_in",
            plans_csv,
            "{'plan_id': 'VARCHAR', 'price_minor': 'BIGINT', 'currency': 'VARCHAR'}",
        ),
        ("offered_in", offered_csv, "{'account_id': 'VARCHAR'}"),
    )
    for table, path, columns in tables:
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv("
            f"{sql_string(path)}, header = false, auto_detect = false, quote = '\"', "
            f"escape = '\"', columns = {columns})"
        )


def load_terms(conn: Any, terms: AmountTerms, plans: Collection[str] | None) -> None:
    """The policy's small tables (`fixed_in`, `plan_filter`) in the DuckDB connection."""
    conn.execute("CREATE OR REPLACE TEMP TABLE fixed_in (currency VARCHAR, amount_minor BIGINT)")
    if terms.fixed:
        conn.executemany("INSERT INTO fixed_in VALUES (?, ?)", list(terms.fixed))
    conn.execute("CREATE OR REPLACE TEMP TABLE plan_filter (plan_id VARCHAR)")
    if plans:
        conn.executemany("INSERT INTO plan_filter VALUES (?)", [(p,) for p in sorted(plans)])


def decide_in_duckdb(
    conn: Any,
    files: EligibilityFiles,
    policy: Policy,
    plans: Collection[str] | None,
    *,
    scratch: Path | None = None,
) -> int:
    """Create the table `decisions` in `conn` (which holds the cohort) from the exported
    `files`; returns its row count. `scratch` is unused here (Spark stages files in it)."""
    terms = amount_terms(policy)
    load_inputs(conn, files.accounts, files.plans, files.offered)
    load_terms(conn, terms, plans)
    sql = decisions_sql(terms, plans is not None, DUCKDB)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE decisions AS {sql}")
    return int(conn.execute("SELECT count(*) FROM decisions").fetchall()[0][0])
