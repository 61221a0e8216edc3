"""A launch chunk's offers, written by its own COPY stream (PostgreSQL) or executemany
(SQLite), read back exactly as made: text that is not ASCII or holds COPY's text escapes,
amounts, instants and NULLs, in claim and automatic mode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from makegood.services.launch_rows import LaunchTerms, chunk_rows
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.offers import LAUNCH_COLUMNS, Member, Offers

NOW = datetime(2026, 3, 23, 9, 0, 0, 123456, tzinfo=UTC)
MEMBERS: list[Member] = [
    ("acc-1", 24, "USD", "pln_a"),
    ("acc\t2\\x\n", 9_007_199_254_740_993, "JPY", "pln\\N"),  # past float precision; escapes
    ("acc-ü-日本", 2_500, "EUR", "plän"),
]


@pytest.mark.parametrize("auto", [False, True], ids=["claim", "auto"])
def test_a_chunk_of_offers_reads_back_as_made(database_url: str, auto: bool) -> None:
    _chunk_reads_back(database_url, auto, MEMBERS)


def test_a_connection_in_another_client_encoding_reads_the_chunk_back_too(
    pg_database_url: str,
) -> None:
    """The stream's text is UTF-8 whatever the connection's client encoding (here Latin-1, as
    PGCLIENTENCODING or a non-UTF-8 database would make it): read back, still as made."""
    url = make_url(pg_database_url).update_query_dict({"client_encoding": "latin1"})
    latin = [("acc-ü", 24, "EUR", "plän-é"), ("acc-2", 30, "EUR", "pln")]
    _chunk_reads_back(url.render_as_string(hide_password=False), False, latin)


def _chunk_reads_back(database_url: str, auto: bool, members: list[Member]) -> None:
    engine = make_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    # An expiry before 2000-01-01: a negative count of microseconds in the binary stream.
    terms = LaunchTerms("cmp_1", "inc_1", datetime(1999, 12, 31, 23, 59, tzinfo=UTC), auto)
    rows = chunk_rows(members, members[-1][0], terms, NOW, copy=postgres)
    assert bool(rows.offers_binary) == postgres
    with engine.begin() as conn:
        Offers(conn).insert(() if postgres else rows.offers, rows.offers_binary, rows.email_ranges)
    columns = [t.offers.c[name] for name in LAUNCH_COLUMNS]
    with engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(sa.select(*columns).order_by(t.offers.c.id))]
    engine.dispose()
    assert stored == sorted(tuple(r) for r in rows.offers)  # the rows are tuples already
