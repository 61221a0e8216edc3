"""Two billing closes at the same time never bill a cycle twice nor apply a credit twice."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.services.billing_close import CloseSummary, close_through
from makegood.store.engine import make_engine
from makegood.store.tables import credits, statement_lines, statements
from tests.factories.billing import add_account, add_credit, add_plan
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

ACCOUNTS = 60
THROUGH = date(2026, 6, 1)  # three cycles: Apr 1, May 1, Jun 1


def test_concurrent_closes_bill_each_cycle_once(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    seed = make_engine(database_url)
    with seed.begin() as conn:
        add_plan(conn)
        for n in range(ACCOUNTS):
            add_account(conn, f"acc-{n:03d}")
            add_credit(conn, f"acc-{n:03d}", 1000, datetime(2026, 3, 21, tzinfo=UTC))
    seed.dispose()

    start = threading.Barrier(2)
    summaries: list[CloseSummary] = []
    errors: list[BaseException] = []

    def run() -> None:
        settings = make_settings(database_url, tmp_path)
        container = Container(settings=settings, engine=make_engine(database_url), clock=clock)
        try:
            start.wait()
            summaries.append(close_through(container, THROUGH, batch_size=7))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            container.engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(s.statements_created for s in summaries) == ACCOUNTS * 3
    assert sum(s.credits_applied_minor.get("USD", 0) for s in summaries) == ACCOUNTS * 1000
    check = make_engine(database_url)
    with check.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(statements)).scalar_one() == (
            ACCOUNTS * 3
        )
        credit_lines = conn.execute(
            sa.select(sa.func.sum(statement_lines.c.amount_minor)).where(
                statement_lines.c.kind == "credit"
            )
        ).scalar_one()
        assert credit_lines == -ACCOUNTS * 1000
        applied = conn.execute(sa.select(sa.func.sum(credits.c.applied_minor))).scalar_one()
        assert applied == ACCOUNTS * 1000
    check.dispose()
