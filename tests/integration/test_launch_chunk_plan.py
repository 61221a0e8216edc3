"""How PostgreSQL reads a launch's chunk of members: in the order of the snapshot's primary
key, never by reading every member after the cursor and sorting them.

A launch follows campaign create within seconds, before autovacuum has analyzed the new
snapshot; planned on no statistics, the chunk's read estimated a few hundred rows and chose a
bitmap scan of all the members after the cursor plus a sort, each chunk (0.33 s instead of
0.09 s half-way through 600k members, on the thread that competes with the COPY). The plan is
read from the server itself: auto_explain, reporting to this client, explains the repository's own
statement as it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.store import tables as t
from makegood.store.bulk_insert import insert_dicts
from makegood.store.engine import make_engine
from makegood.telemetry.engine import connect_duckdb
from tests.factories.joined import JoinedUnitOfWork
from tests.factories.staff import seed_draft
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

CAMPAIGN = "cmp_plan"
INCIDENT = "inc_plan"
AT = datetime(2026, 3, 21, 18, 40, tzinfo=UTC)


def _members(count: int) -> list[dict[str, object]]:
    return [
        {
            "campaign_id": CAMPAIGN,
            "account_id": f"acc{i:08d}",
            "failed_attempts": 2,
            "first_failure_at": AT,
            "last_failure_at": AT + timedelta(minutes=5),
            "excluded_reason": "not_active" if i % 50 == 0 else None,
            "plan_id": "pln",
            "currency": "USD",
            "amount_minor": 30,
        }
        for i in range(count)
    ]


def test_a_chunk_of_a_snapshot_never_analyzed_is_read_in_key_order_without_a_sort(
    pg_database_url: str,
) -> None:
    engine = make_engine(pg_database_url)
    try:
        with engine.begin() as conn:
            insert_dicts(conn, t.cohort_members, _members(20_000))
        with engine.connect() as conn:  # as the launch finds it: never analyzed
            reltuples = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = 'cohort_members'"
            ).scalar_one()
        assert reltuples < 0

        plans: list[str] = []
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            driver.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
            conn.exec_driver_sql("LOAD 'auto_explain'")
            conn.exec_driver_sql("SET auto_explain.log_min_duration = 0")
            conn.exec_driver_sql("SET auto_explain.log_level = 'notice'")
            conn.exec_driver_sql("SET client_min_messages = 'notice'")
            members, last = JoinedUnitOfWork(conn).offers.next_unoffered_members(
                CAMPAIGN, INCIDENT, "acc00005000", 1_000
            )
            conn.rollback()
    finally:
        engine.dispose()

    # The chunk itself: the next 1,000 members, eligible ones only, in key order.
    assert last == "acc00006000"
    assert [m[0] for m in members] == [f"acc{i:08d}" for i in range(5_001, 6_001) if i % 50 != 0]
    chunk_plans = [p for p in plans if "cohort_members" in p]
    assert len(chunk_plans) == 1, plans
    assert "Index Scan using pk_cohort_members" in chunk_plans[0], chunk_plans[0]
    assert "Sort" not in chunk_plans[0], chunk_plans[0]
    assert "Bitmap" not in chunk_plans[0], chunk_plans[0]


def test_a_snapshot_written_on_postgresql_is_analyzed_with_it(
    pg_database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    """campaign create's write leaves statistics behind (the approval's summaries and the
    launch read the snapshot next); autovacuum would only get to it later, if ever for a small
    one."""
    settings = make_settings(pg_database_url, tmp_path)
    container = Container(settings=settings, engine=make_engine(pg_database_url), clock=clock)
    draft = seed_draft(container, created_by="seed", accounts=1)
    duck = connect_duckdb()
    duck.execute(
        "CREATE TABLE decisions AS SELECT 'acc-' || i AS account_id, 1::BIGINT AS "
        "failed_attempts, 1774118400000000::BIGINT AS first_us, 1774118400000000::BIGINT AS "
        "last_us, NULL::VARCHAR AS excluded_reason, 'pln' AS plan_id, 'USD' AS currency, "
        "30::BIGINT AS amount_minor, 1::BIGINT AS impact_minutes, NULL::INT AS tier, "
        "NULL::VARCHAR AS why, NULL::BIGINT AS why_count FROM range(700) t(i)"
    )
    try:
        with container.uow() as uow:
            uow.cohort.clear(draft.campaign_id)
            uow.cohort.write(duck, draft.campaign_id)
            uow.commit()
        with container.engine.connect() as conn:
            reltuples = conn.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE relname = 'cohort_members'")
            ).scalar_one()
    finally:
        duck.close()
        container.engine.dispose()
    assert reltuples == 700
