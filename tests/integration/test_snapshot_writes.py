"""The snapshot's one check of its campaign (cohort_members has no per-row foreign key since
migration 0006): a snapshot for a missing campaign is refused whole, and while a snapshot is
being written its campaign cannot be deleted (SQLite and PostgreSQL). The snapshot's two
dialect strategies (binary COPY on PostgreSQL, batches on SQLite) read and write the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.store import snapshot
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.telemetry.engine import connect_duckdb
from tests.factories.billing import add_open_offer
from tests.factories.staff import seed_draft
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

# Ids a CSV must quote (a quote, a comma, a line break), instants to the microsecond, NULLs.
ODD_IDS = ('acc "q", x', "acc\nline")
AT_US = 1774118400000000  # 2026-03-21 18:40 UTC
DECISIONS = [
    ("acc-a", 2, AT_US + 1, AT_US + 60_999_999, None, "pln", "USD", 30, 5, 0, "outage", 1),
    (ODD_IDS[0], 1, AT_US, AT_US, "unknown_account", None, None, None, 1, None, None, None),
    (ODD_IDS[1], 1, AT_US, AT_US, "not_active", "pln", "USD", None, 1, None, None, None),
]


@pytest.fixture
def decisions() -> Iterator[Any]:
    """A DuckDB connection holding a `decisions` table of three accounts (one eligible)."""
    duck = connect_duckdb()
    duck.execute(
        "CREATE TABLE decisions (account_id VARCHAR, failed_attempts BIGINT, first_us BIGINT, "
        "last_us BIGINT, excluded_reason VARCHAR, plan_id VARCHAR, currency VARCHAR, "
        "amount_minor BIGINT, impact_minutes BIGINT, tier INT, why VARCHAR, why_count BIGINT)"
    )
    duck.executemany("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", DECISIONS)
    yield duck
    duck.close()


def members(container: Container, campaign_id: str) -> list[str]:
    cm = t.cohort_members
    with container.engine.connect() as conn:
        query = sa.select(cm.c.account_id).where(cm.c.campaign_id == campaign_id)
        return list(conn.execute(query.order_by(cm.c.account_id)).scalars())


def test_a_snapshot_for_a_missing_campaign_is_refused_and_writes_nothing(
    container: Container, decisions: Any
) -> None:
    with container.uow() as uow, pytest.raises(LookupError, match="cmp_missing"):
        uow.cohort.write(decisions, "cmp_missing")
    assert members(container, "cmp_missing") == []


def test_a_snapshot_is_written_exactly_for_its_existing_campaign(
    container: Container, decisions: Any
) -> None:
    draft = seed_draft(container, created_by="seed", accounts=1)
    with container.uow() as uow:
        uow.cohort.clear(draft.campaign_id)
        uow.cohort.write(decisions, draft.campaign_id)
        uow.commit()
    cm = t.cohort_members
    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(*[c for c in cm.c if c.name != "campaign_id"])
            .where(cm.c.campaign_id == draft.campaign_id)
            .order_by(cm.c.account_id)
        ).all()
    at = datetime(2026, 3, 21, 18, 40, tzinfo=UTC)
    assert [tuple(r) for r in rows] == sorted(
        [
            (
                "acc-a",
                2,
                at + timedelta(microseconds=1),
                at + timedelta(seconds=60, microseconds=999999),
                None,
                "pln",
                "USD",
                30,
                5,
                0,
                "outage",
                1,
            ),
            (ODD_IDS[0], 1, at, at, "unknown_account", None, None, None, 1, None, None, None),
            (ODD_IDS[1], 1, at, at, "not_active", "pln", "USD", None, 1, None, None, None),
        ]
    )


def test_an_appealing_account_joins_the_snapshot_once_through_the_cohort(
    container: Container,
) -> None:
    """cohort_members has one home, uow.cohort: the evidence of an account granted on appeal
    (it was not in the snapshot) is added there, once per campaign and account."""
    draft = seed_draft(container, created_by="seed", accounts=1)
    at = datetime(2026, 3, 21, 18, 40, tzinfo=UTC)
    row = {
        "campaign_id": draft.campaign_id,
        "account_id": "acc-appealed",
        "failed_attempts": 4,
        "first_failure_at": at,
        "last_failure_at": at + timedelta(minutes=3),
        "excluded_reason": None,
        "plan_id": "pln",
        "currency": "USD",
        "amount_minor": 30,
        "impact_minutes": 3,
        "tier": None,
        "why": "outage",
        "why_count": 4,
    }
    with container.uow() as uow:
        uow.cohort.add_member(row)
        uow.cohort.add_member({**row, "failed_attempts": 9})  # already there: left as it is
        uow.commit()
    cm = t.cohort_members
    with container.engine.connect() as conn:
        found = conn.execute(
            sa.select(cm.c.failed_attempts).where(
                cm.c.campaign_id == draft.campaign_id, cm.c.account_id == "acc-appealed"
            )
        ).all()
    assert [tuple(r) for r in found] == [(4,)]


def test_the_eligibility_inputs_are_the_same_files_on_both_dialects(
    container: Container, tmp_path: Path
) -> None:
    draft = seed_draft(container, created_by="seed", accounts=3)
    first, second, third = sorted(draft.account_ids)
    with container.uow() as uow:
        plan_id = uow.conn.execute(
            sa.select(t.accounts.c.plan_id).where(t.accounts.c.account_id == first)
        ).scalar_one()
        start = uow.conn.execute(
            sa.select(t.incidents.c.starts_at).where(t.incidents.c.id == draft.incident_id)
        ).scalar_one()
        # Cancelled at the incident's start (counts as after it), and before it.
        for account_id, cancelled_at in ((first, start), (second, start - timedelta(seconds=1))):
            uow.conn.execute(
                t.accounts.update()
                .where(t.accounts.c.account_id == account_id)
                .values(status="cancelled", cancelled_at=cancelled_at)
            )
        add_open_offer(uow.conn, draft.campaign_id, third, plan_id=plan_id)
        uow.commit()
    with container.uow() as uow:
        files = uow.cohort.export_eligibility_inputs(draft.incident_id, tmp_path)

    def lines(path: str) -> list[str]:
        return sorted(Path(path).read_text(encoding="utf-8").splitlines())

    assert lines(files.accounts) == sorted(
        [
            f"{first},cancelled,{plan_id},1",
            f"{second},cancelled,{plan_id},0",
            f"{third},active,{plan_id},0",
        ]
    )
    assert lines(files.plans) == [f"{plan_id},999,USD"]
    assert lines(files.offered) == [third]


@pytest.fixture
def pg_container(pg_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    engine = make_engine(pg_database_url)
    yield Container(make_settings(pg_database_url, tmp_path), engine, clock)
    engine.dispose()


@pytest.mark.postgres
def test_the_campaign_cannot_be_deleted_while_its_snapshot_is_written(
    pg_container: Container, decisions: Any
) -> None:
    draft = seed_draft(pg_container, created_by="seed", accounts=1)
    url = pg_container.engine.url.set(drivername="postgresql")
    with pg_container.uow() as uow:
        uow.cohort.clear(draft.campaign_id)
        uow.cohort.write(decisions, draft.campaign_id)
        with psycopg.connect(url.render_as_string(hide_password=False)) as other:
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM campaigns WHERE id = %s", (draft.campaign_id,))


# Values the binary COPY must carry exactly: non-ASCII and empty text, ids a CSV must quote or
# escape, instants before 2000 and far ahead to the microsecond, the extremes of each integer
# column, NULL in every nullable column.
ODD_DECISIONS = [
    ("acc-\\N", 1, -1, 0, None, "", "", -(2**63), None, -32768, "", None),
    ('acc "q", x\r\n', 2**31 - 1, 946684799999999, 946684800000001, "not_active", "plän",
     "EUR", 2**63 - 1, 2**31 - 1, 32767, "pannë", 2**31 - 1),
    ("kontō-😀", 0, 253402300799999999, 253402300799999999, None, None, None, 0, -(2**31),
     None, None, -(2**31)),
    ("", 3, -2208988800000000, AT_US, "unknown_account", "pln", "USD", 1, 0, 0, "outage", 0),
    ("acc\tz", 1, AT_US, AT_US + 1, None, "pln", "JPY", None, 1, None, "outage", 1),
]  # fmt: skip


def _as_member(row: tuple[Any, ...]) -> tuple[Any, ...]:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first, last = (epoch + timedelta(microseconds=us) for us in row[2:4])
    return (row[0], row[1], first, last, *row[4:])


@pytest.mark.postgres
def test_a_snapshot_of_odd_values_round_trips_exactly_over_several_copy_batches(
    pg_container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rows per COPY batch (three batches), under a client encoding that is not UTF-8."""
    monkeypatch.setattr(snapshot, "_COPY_ROWS", 2)
    duck = connect_duckdb()
    duck.execute(
        "CREATE TABLE decisions (account_id VARCHAR, failed_attempts BIGINT, first_us BIGINT, "
        "last_us BIGINT, excluded_reason VARCHAR, plan_id VARCHAR, currency VARCHAR, "
        "amount_minor BIGINT, impact_minutes BIGINT, tier INT, why VARCHAR, why_count BIGINT)"
    )
    duck.executemany(
        "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ODD_DECISIONS
    )
    draft = seed_draft(pg_container, created_by="seed", accounts=1)
    written: list[int] = []
    with pg_container.uow() as uow:
        uow.conn.exec_driver_sql("SET LOCAL client_encoding TO 'LATIN1'")
        uow.cohort.clear(draft.campaign_id)
        uow.cohort.write(duck, draft.campaign_id, written.append)
        uow.commit()
    duck.close()
    cm = t.cohort_members
    with pg_container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(*[c for c in cm.c if c.name != "campaign_id"])
            .where(cm.c.campaign_id == draft.campaign_id)
            .order_by(cm.c.account_id)
        ).all()
    assert written == [2, 4, 5]
    expected = sorted(map(_as_member, ODD_DECISIONS), key=lambda r: r[0].encode())
    assert [tuple(r) for r in rows] == expected
