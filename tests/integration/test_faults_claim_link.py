"""Faults around the claim page's own transaction (`claim_with_link`) on PostgreSQL.

There the claim is one autocommitted statement: the database applies all of it or none of it.
Two ways to lose the connection are shown: before the statement reaches the server (nothing
is written; the retry claims), and after the server committed but before the answer came back
(the subscriber saw an error; the retry says "already applied" and there is still one credit).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from makegood.bootstrap import Container
from makegood.domain.errors import OfferAlreadyClaimed
from makegood.services.claims import claim_with_link
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.tables_billing import ledger_entries
from tests.factories.offers import seed_offer
from tests.harness.clock import FrozenClock
from tests.harness.postgres import admin_engine, terminate_other_backends
from tests.harness.settings import make_settings


@pytest.fixture
def pg(pg_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    engine = make_engine(pg_database_url)
    yield Container(settings=make_settings(pg_database_url, tmp_path), engine=engine, clock=clock)
    engine.dispose()


def facts(engine: sa.Engine) -> tuple[str, int, int, int]:
    with engine.connect() as conn:
        count = conn.execute
        return (
            count(sa.select(t.offers.c.state)).scalar_one(),
            count(sa.select(sa.func.count()).select_from(t.credits)).scalar_one(),
            count(sa.select(sa.func.count()).select_from(ledger_entries)).scalar_one(),
            # The offer's audit entries (the factory's incident has its own).
            count(
                sa.select(sa.func.count())
                .select_from(t.audit_log)
                .where(t.audit_log.c.subject_type == "offer")
            ).scalar_one(),
        )


def claim_while_striking(pg: Container, pg_database_url: str, token: str, when: str) -> None:
    """Claim `token`, dropping the connection at the claim statement: `before` it is sent, or
    `after` the server ran (and, in autocommit, committed) it but before the caller sees the
    answer. The claim must fail with OperationalError."""
    admin = admin_engine(pg_database_url)
    struck: list[int] = []

    def strike(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "WITH won AS" in statement and not struck:
            struck.append(terminate_other_backends(admin))
            if when == "after":
                raise sa.exc.OperationalError(statement, {}, ConnectionError("connection lost"))

    name = f"{when}_cursor_execute"
    event.listen(pg.engine, name, strike)
    try:
        with pytest.raises(sa.exc.OperationalError):
            claim_with_link(pg.engine, token, pg.now())
    finally:
        event.remove(pg.engine, name, strike)
        admin.dispose()
    assert struck
    assert struck[0] >= 1


def test_connection_dropped_before_the_claim_statement_writes_nothing_and_a_retry_claims(
    pg: Container, pg_database_url: str
) -> None:
    seeded = seed_offer(pg.engine, pg.now())

    claim_while_striking(pg, pg_database_url, seeded.token, "before")

    assert facts(pg.engine) == ("open", 0, 0, 0)
    result = claim_with_link(pg.engine, seeded.token, pg.now())
    assert result.amount_minor == 24
    assert facts(pg.engine) == ("claimed", 1, 1, 1)


def test_connection_dropped_after_the_server_committed_a_retry_credits_nothing_more(
    pg: Container, pg_database_url: str
) -> None:
    seeded = seed_offer(pg.engine, pg.now())

    claim_while_striking(pg, pg_database_url, seeded.token, "after")

    assert facts(pg.engine) == ("claimed", 1, 1, 1)  # the subscriber saw an error, though
    with pytest.raises(OfferAlreadyClaimed):
        claim_with_link(pg.engine, seeded.token, pg.now())
    assert facts(pg.engine) == ("claimed", 1, 1, 1)
