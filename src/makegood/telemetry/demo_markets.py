"""The demo world's markets, plans and devices, and the DuckDB lookup tables built from them.

Each market (country, locale, region, UTC offset, share of accounts, plans with their shares)
becomes a row of the `markets` and `market_plans` temp tables; generated accounts pick theirs
by comparing a hash-based number in [0, 1) with each row's [lo, hi) bounds.
"""

# SQL is assembled from this module's constants; strings pass through sql_literal.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# plan_id, name, monthly price (major units, as written in the file), currency
PLANS: tuple[tuple[str, str, str, str], ...] = (
    ("basic_usd", "Basic", "7.99", "USD"),
    ("premium_usd", "Premium", "15.49", "USD"),
    ("standard_eur", "Standard", "9.99", "EUR"),
    ("standard_gbp", "Standard", "5.99", "GBP"),
    ("standard_mxn", "Estándar", "139.00", "MXN"),
    ("standard_brl", "Padrão", "39.90", "BRL"),
    ("standard_jpy", "スタンダード", "990", "JPY"),
    ("standard_kwd", "Standard", "3.500", "KWD"),
)

_USD = (("basic_usd", 0.6), ("premium_usd", 0.4))
# country, locale, region, UTC offset in hours (late March), share of accounts, plans
MARKETS: tuple[tuple[str, str, str, int, float, tuple[tuple[str, float], ...]], ...] = (
    ("US", "en-US", "us-east", -4, 0.19, _USD),
    ("US", "en-US", "us-west", -7, 0.15, _USD),
    ("MX", "es-MX", "us-west", -6, 0.06, (("standard_mxn", 1.0),)),
    ("GB", "en-GB", "eu-west", 0, 0.08, (("standard_gbp", 1.0),)),
    ("FR", "fr-FR", "eu-west", 1, 0.08, (("standard_eur", 1.0),)),
    ("ES", "es-ES", "eu-west", 1, 0.06, (("standard_eur", 1.0),)),
    ("DE", "de-DE", "eu-central", 1, 0.09, (("standard_eur", 1.0),)),
    ("BR", "pt-BR", "sa-east", -3, 0.12, (("standard_brl", 1.0),)),
    ("JP", "ja-JP", "ap-northeast", 9, 0.12, (("standard_jpy", 1.0),)),
    ("KW", "ar-KW", "me-central", 3, 0.05, (("standard_kwd", 1.0),)),
)
DEVICES: tuple[tuple[str, float], ...] = (
    ("tv", 0.4),
    ("mobile", 0.3),
    ("web", 0.2),
    ("console", 0.1),
)


def _cumulative(shares: list[float]) -> list[tuple[float, float]]:
    total, bounds, low = sum(shares), [], 0.0
    for share in shares:
        high = low + share / total
        bounds.append((low, high))
        low = high
    bounds[-1] = (bounds[-1][0], 1.0 + 1e-9)
    return bounds


def _values(rows: Sequence[tuple[object, ...]]) -> str:
    return ", ".join("(" + ", ".join(sql_literal(v) for v in row) + ")" for row in rows)


def sql_literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def create_lookup_tables(conn: Any) -> None:
    market_bounds = _cumulative([m[4] for m in MARKETS])
    markets = [
        (i, country, locale, region, offset * 3_600_000_000, *market_bounds[i])
        for i, (country, locale, region, offset, _, _) in enumerate(MARKETS)
    ]
    conn.execute(
        "CREATE TEMP TABLE markets AS SELECT * FROM (VALUES "
        + _values(markets)
        + ") t(market, country, locale, region, utc_offset_us, lo, hi)"
    )
    market_plans: list[tuple[object, ...]] = []
    for i, market in enumerate(MARKETS):
        bounds = _cumulative([share for _, share in market[5]])
        market_plans += [(i, plan, *bounds[k]) for k, (plan, _) in enumerate(market[5])]
    conn.execute(
        "CREATE TEMP TABLE market_plans AS SELECT * FROM (VALUES "
        + _values(market_plans)
        + ") t(market, plan_id, lo, hi)"
    )
    device_bounds = _cumulative([share for _, share in DEVICES])
    conn.execute(
        "CREATE TEMP TABLE devices AS SELECT * FROM (VALUES "
        + _values([(name, *device_bounds[k]) for k, (name, _) in enumerate(DEVICES)])
        + ") t(device, lo, hi)"
    )
