"""The eligibility rule and the amounts of a campaign as one set-based query (DuckDB or Spark).

domain.policy.decide is the reference: this module computes, for every account of a cohort at
once, the same decision — the first exclusion reason that applies, in Exclusion's order, and
the amount in minor units (tier, basis, floor and cap as telemetry.policy_sql writes them) —
joining the cohort with the accounts, their plans and the accounts already offered for the
incident. Property tests hold the two equal on generated worlds.

The inputs live in a DuckDB connection (the one that holds the cohort): tables `accounts_in
(account_id, status, plan_id, cancelled_since_start)` (1 when the account was cancelled at or
after the incident's start), `plans_in (plan_id, price_minor, currency)`, `offered_in
(account_id)` and `plan_filter (plan_id)`. The result is the table `decisions`, one row per
kept cohort account (DECISION_COLUMNS).
"""

# SQL is assembled from constants; values are bound or are integers computed here.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from makegood.domain.policy import CreditPolicy, Outage, StatusAt
from makegood.telemetry.policy_sql import DUCKDB, Dialect, policy_sql
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
    "tier",
    "why",
    "why_count",
)


def decisions_sql(policy: CreditPolicy, outage: Outage, dialect: Dialect) -> str:
    """The query over the input tables (module doc) giving DECISION_COLUMNS per account."""
    p = policy_sql(policy, outage, dialect)
    plan_check = "listed_plan IS NULL" if policy.eligibility.plans is not None else "false"
    at_incident = policy.eligibility.status_at is StatusAt.INCIDENT
    active = (
        "(status = 'active' OR (status = 'cancelled' AND cancelled_since_start = 1))"
        if at_incident
        else "status = 'active'"
    )
    below = "t IS NULL" if p.has_tiers else "false"
    floored = (
        "CASE WHEN floor_minor IS NOT NULL AND floor_minor > basis THEN floor_minor ELSE basis END"
    )
    return f"""
WITH facts AS (
    SELECT a.account_id, a.status, a.plan_id, a.cancelled_since_start, p.price_minor, p.currency
    FROM accounts_in a JOIN plans_in p ON p.plan_id = a.plan_id
), measured AS (
    SELECT c.account_id, c.failed_attempts, c.first_us, c.last_us, c.impact_minutes,
           f.account_id IS NOT NULL AS known, f.status, f.plan_id, f.currency, f.price_minor,
           f.cancelled_since_start, pf.plan_id AS listed_plan,
           o.account_id IS NOT NULL AS offered
    FROM cohort c
    LEFT JOIN facts f ON f.account_id = c.account_id
    LEFT JOIN plan_filter pf ON pf.plan_id = f.plan_id
    LEFT JOIN offered_in o ON o.account_id = c.account_id
    WHERE c.kept
), tiered AS (
    SELECT *, {p.tier} AS t FROM measured
), based AS (
    SELECT *, {p.basis} AS basis, {p.floor} AS floor_minor, {p.cap} AS cap_minor FROM tiered
), priced AS (
    SELECT *, CASE WHEN basis IS NULL THEN NULL
                   WHEN cap_minor IS NOT NULL AND cap_minor < ({floored}) THEN cap_minor
                   ELSE {floored} END AS amount
    FROM based
), decided AS (
    SELECT *, CASE
        WHEN NOT known THEN 'unknown_account'
        WHEN NOT {active} THEN 'not_active'
        WHEN {plan_check} THEN 'plan_not_eligible'
        WHEN {below} THEN 'below_threshold'
        WHEN amount IS NULL THEN 'no_amount_for_currency'
        WHEN amount = 0 THEN 'zero_amount'
        WHEN offered THEN 'already_offered'
    END AS excluded_reason
    FROM priced
)
SELECT account_id, failed_attempts, first_us, last_us, excluded_reason, plan_id, currency,
       CASE WHEN excluded_reason IS NULL THEN amount END AS amount_minor,
       impact_minutes,
       CAST(CASE WHEN excluded_reason IS NULL AND {str(p.has_tiers).lower()} THEN t END AS INT)
           AS tier,
       CASE WHEN excluded_reason IS NULL THEN {p.why} END AS why,
       CASE WHEN excluded_reason IS NULL THEN {p.why_count} END AS why_count
FROM decided
"""


def load_inputs(conn: Any, accounts_csv: str, plans_csv: str, offered_csv: str) -> None:
    """`accounts_in`, `plans_in` and `offered_in` from headerless CSV files (store.snapshot
    writes them): read by DuckDB in parallel, never through Python rows."""
    tables = (
        (
            "accounts_in",
            accounts_csv,
            (
                "{'account_id': 'VARCHAR', 'status': 'VARCHAR', 'plan_id': 'VARCHAR', "
                "'cancelled_since_start': 'BIGINT'}"
            ),
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


def load_plan_filter(conn: Any, plans: Collection[str] | None) -> None:
    """The policy's eligible plans as the table `plan_filter` in the DuckDB connection."""
    conn.execute("CREATE OR REPLACE TEMP TABLE plan_filter (plan_id VARCHAR)")
    if plans:
        conn.executemany("INSERT INTO plan_filter VALUES (?)", [(p,) for p in sorted(plans)])


def decide_in_duckdb(
    conn: Any,
    files: EligibilityFiles,
    policy: CreditPolicy,
    outage: Outage,
    *,
    scratch: Path | None = None,
) -> int:
    """Create the table `decisions` in `conn` (which holds the cohort) from the exported
    `files`; returns its row count. `scratch` is unused here (Spark stages files in it)."""
    sql = decisions_sql(policy, outage, DUCKDB)  # refuses what cannot be exact, before any work
    load_inputs(conn, files.accounts, files.plans, files.offered)
    load_plan_filter(conn, policy.eligibility.plans)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE decisions AS {sql}")
    return int(conn.execute("SELECT count(*) FROM decisions").fetchall()[0][0])


def eligible_count(conn: Any) -> int:
    """The accounts of the table `decisions` in `conn` with no exclusion reason: the eligible
    accounts of the snapshot written from it (every engine leaves its decisions there)."""
    query = "SELECT count(*) FROM decisions WHERE excluded_reason IS NULL"
    return int(conn.execute(query).fetchall()[0][0])
