"""The rules of the plans and accounts files, each one vectorised query over DuckDB's `src`.

A rule is a column, a condition on a row (DuckDB SQL over the trimmed text columns) and the
problem it states; a file is checked by one UNION ALL of its rules, which counts every problem
and returns the first MAX_PROBLEMS in file order. Regular expressions are RE2 (DuckDB's):
`\\p{Cc}` control characters (NUL, DEL, C1), `\\p{Cf}` invisible format characters (U+200B,
bidi overrides such as U+202E, U+FEFF), `\\p{Z}` every Unicode space and line separator.
"""

# SQL here is built from this module's own identifiers and rules; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa  # type: ignore[import-untyped]

from makegood.domain.currencies import EXPONENTS
from makegood.domain.money import MoneyError, check_currency, parse_amount
from makegood.import_files.loading import MAX_PROBLEMS, LoadedFile, Problem

ID_MAX = 64
STATUSES = ("active", "paused", "cancelled")
_INVISIBLE = r"\s\p{Cc}\p{Cf}\p{Z}\p{Co}"
_EMAIL_PART = rf'[^@{_INVISIBLE}<>,;"]+'
EMAIL = rf"{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}"
# BCP 47 language tag, well-formed (RFC 5646 syntax, without grandfathered irregular tags).
BCP47 = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"
)
_DATE_OK = (
    "(regexp_full_match(next_bill_date, '[0-9]{4}-[0-9]{2}-[0-9]{2}')"
    " AND next_bill_date >= '0001-01-01' AND TRY_CAST(next_bill_date AS DATE) IS NOT NULL)"
)

# ISO 8601 with an offset; TRY_CAST then refuses impossible dates and times.
_INSTANT = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)"
)
_INSTANT_OK = (
    f"(length(cancelled_at) <= 40 AND regexp_full_match(cancelled_at, '{_INSTANT}')"
    " AND TRY_CAST(cancelled_at AS TIMESTAMPTZ) IS NOT NULL)"
)
# How each database's driver-less text form of a UTC instant reads (SQLAlchemy on SQLite
# stores naive UTC text; PostgreSQL parses an explicit offset).
INSTANT_TEXT = {"sqlite": "%Y-%m-%d %H:%M:%S.%f", "postgresql": "%Y-%m-%d %H:%M:%S.%f+00"}


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _short(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:80] + "...")


@dataclass(frozen=True)
class Rule:
    column: str
    when: str  # SQL: true when the row breaks the rule
    problem: Callable[[str], str]  # the problem, from the SQL `value`
    value: str = "''"


def id_rules(column: str) -> list[Rule]:
    ok = f"{column} <> '' AND length({column}) <= {ID_MAX}"
    ok += f" AND NOT regexp_matches({column}, {_q(f'[{_INVISIBLE}]')})"
    return [
        Rule(column, f"{column} = ''", lambda _: "is empty; every row needs an id"),
        Rule(
            column,
            f"{column} <> '' AND NOT ({ok})",
            lambda _: (
                f"id must be at most {ID_MAX} characters without spaces, control or "
                "invisible characters"
            ),
        ),
        # value: the row where the id first appears and the id, split by find_problems
        Rule(
            column,
            f"({ok}) AND first_row IS NOT NULL AND row <> first_row",
            lambda v: v,
            f"first_row || chr(0) || {column}",
        ),
    ]


def account_rules(columns: Sequence[str]) -> list[Rule]:
    rules = [
        *id_rules("account_id"),
        Rule(
            "email",
            f"NOT regexp_full_match(email, {_q(EMAIL)}) OR length(email) > 320",
            lambda _: "is not a valid e-mail address",
        ),
        Rule(
            "plan_id",
            "plan_id NOT IN (SELECT plan_id FROM known_plans)",
            lambda v: f"unknown plan {_short(v)}; import plans first",
            "plan_id",
        ),
        Rule(
            "status",
            f"lower(status) NOT IN {tuple(STATUSES)!r}",
            lambda v: f"{_short(v)} must be one of {', '.join(STATUSES)}",
            "status",
        ),
        Rule(
            "country",
            "country <> '' AND NOT regexp_full_match(country, '[A-Za-z]{2,3}')",
            lambda v: f"{_short(v)} is not a country code (US, FR)",
            "country",
        ),
        Rule(
            "locale",
            f"NOT regexp_full_match(locale, {_q(BCP47)}) OR length(locale) > 64",
            lambda v: f"{_short(v)} is not a BCP 47 tag (en-US, pt-BR)",
            "locale",
        ),
        Rule(
            "next_bill_date",
            f"NOT {_DATE_OK}",
            lambda v: f"{_short(v)} is not a date (YYYY-MM-DD)",
            "next_bill_date",
        ),
    ]
    if "billing_day" in columns:
        rules.append(
            Rule(
                "billing_day",
                f"{_DATE_OK} AND billing_day <> '' AND NOT (regexp_full_match(billing_day,"
                " '[0-9]{1,3}') AND TRY_CAST(billing_day AS INTEGER) BETWEEN 1 AND 31)",
                lambda _: "must be a day of month from 1 to 31",
            )
        )
    if "cancelled_at" in columns:
        rules.append(
            Rule(
                "cancelled_at",
                f"cancelled_at <> '' AND NOT {_INSTANT_OK}",
                lambda v: (
                    f"{v[:40]!r} is not an instant with an offset "
                    "(2026-03-22T21:00:00+00:00); leave it empty when the account is not cancelled"
                ),
                "cancelled_at",
            )
        )
    if "stripe_customer_id" in columns:
        rules.append(
            Rule(
                "stripe_customer_id",
                f"length(stripe_customer_id) > 255 OR regexp_matches(stripe_customer_id,"
                f" {_q(f'[{_INVISIBLE}]')})",
                lambda _: "must be a Stripe customer id such as cus_123",
            )
        )
    return rules


def account_rows(columns: Sequence[str], dialect: str) -> str:
    """The valid file as rows of the accounts table (dates as ISO text), in file order."""
    day = "day(CAST(next_bill_date AS DATE))"
    billing = (
        f"CASE WHEN billing_day <> '' THEN greatest(CAST(billing_day AS INTEGER), {day})"
        f" ELSE {day} END"
        if "billing_day" in columns
        else day
    )
    extra = (
        ", nullif(stripe_customer_id, '') AS stripe_customer_id"
        if "stripe_customer_id" in columns
        else ""
    )
    if "cancelled_at" in columns:
        utc = "timezone('UTC', CAST(cancelled_at AS TIMESTAMPTZ))"
        extra += (
            f", CASE WHEN cancelled_at = '' THEN NULL"
            f" ELSE strftime({utc}, '{INSTANT_TEXT[dialect]}') END AS cancelled_at"
        )
    return (
        "SELECT account_id, email, plan_id, lower(status) AS status, upper(country) AS country,"
        f" locale, next_bill_date, CAST({billing} AS SMALLINT) AS billing_day{extra}"
        " FROM src ORDER BY row"
    )


def plan_rules() -> list[Rule]:
    known = "upper(currency) IN (SELECT code FROM currencies)"
    return [
        *id_rules("plan_id"),
        Rule("name", "name = ''", lambda _: "is empty"),
        Rule(
            "name",
            r"regexp_matches(name, '[\p{Cc}\p{Zl}\p{Zp}]')",
            lambda _: "must not contain control characters (line breaks, NUL)",
        ),
        Rule("currency", f"NOT {known}", _currency_problem, "upper(currency)"),
        Rule("monthly_price", f"{known} AND error IS NOT NULL", lambda v: v, "error"),
    ]


def _currency_problem(code: str) -> str:
    try:
        check_currency(code[:20])
    except MoneyError as exc:
        return str(exc)
    return "unknown currency"


PRICES_JOIN = "LEFT JOIN prices USING (monthly_price, currency)"
PLAN_ROWS = (
    "SELECT plan_id, left(name, 200) AS name, minor AS monthly_price_minor,"
    f" upper(currency) AS currency FROM src {PRICES_JOIN} ORDER BY row"
)


def prepare_plans(loaded: LoadedFile) -> None:
    """Price every distinct (price, currency) pair with the one money parser, for the rules."""
    con = loaded.con
    con.register("currencies", pa.table({"code": sorted(EXPONENTS)}))
    pairs = con.execute(
        "SELECT DISTINCT monthly_price, currency FROM src"
        " WHERE upper(currency) IN (SELECT code FROM currencies)"
    ).fetchall()
    minors: list[int | None] = []
    errors: list[str | None] = []
    for price, currency in pairs:
        try:
            minors.append(parse_amount(price, currency.upper()).minor)
            errors.append(None)
        except MoneyError as exc:
            minors.append(None)
            errors.append(str(exc))
    prices = pa.table(
        {
            "monthly_price": pa.array([p for p, _ in pairs], pa.string()),
            "currency": pa.array([c for _, c in pairs], pa.string()),
            "minor": pa.array(minors, pa.int64()),
            "error": pa.array(errors, pa.string()),
        }
    )
    con.register("prices_arrow", prices)
    con.execute("CREATE TABLE prices AS SELECT * FROM prices_arrow")


def find_problems(
    loaded: LoadedFile, rules: Sequence[Rule], key: str, join: str = ""
) -> tuple[list[Problem], int]:
    """Every rule over the whole file in one scan: the first problems in file order and the
    count. Only the reported problems' values are read back, in a second, filtered query."""
    con = loaded.con
    # An id's first row, only for ids that appear more than once (a hash aggregate, no sort).
    con.execute(
        f"CREATE TEMP VIEW checked AS SELECT * FROM src {join} LEFT JOIN"
        f" (SELECT {key}, min(row) AS first_row FROM src GROUP BY {key} HAVING count(*) > 1)"
        f" USING ({key})"
    )
    cases = ", ".join(
        f"CASE WHEN coalesce({r.when}, true) THEN {i} END" for i, r in enumerate(rules)
    )
    con.execute(
        "CREATE TEMP TABLE found AS SELECT row, rule FROM (SELECT row,"
        f" unnest(list_filter([{cases}], lambda x: x IS NOT NULL)) AS rule FROM checked)"
    )
    total = con.execute("SELECT count(*) FROM found").fetchall()[0][0]
    first = con.execute(f"SELECT * FROM found ORDER BY row, rule LIMIT {MAX_PROBLEMS}").fetchall()
    values: dict[tuple[int, int], str] = {}
    for rule in sorted({rule for _, rule in first}):
        rows = [row for row, r in first if r == rule]
        found = con.execute(
            f"SELECT row, CAST({rules[rule].value} AS VARCHAR) FROM checked"
            f" WHERE row IN ({', '.join(str(int(r)) for r in rows)})"
        ).fetchall()
        values.update({(row, rule): value for row, value in found})
    problems = []
    for row, rule in first:
        text = rules[rule].problem(values.get((row, rule)) or "")
        ref = None
        if "\x00" in text:  # a duplicate id: "first row NUL id"
            first_row, _, ident = text.partition("\x00")
            ref, text = int(first_row), f"duplicate id {_short(ident)} (first on line \x00)"
        problems.append(Problem(rules[rule].column, text, row=row, ref_row=ref))
    return problems, int(total)
