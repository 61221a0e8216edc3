"""COPY TO STDOUT through libpq (store.bulk_copy_out), on PostgreSQL: inside the caller's
transaction from its first statement, the server's exact bytes, errors raised with the
connection left usable, rows written as they come, other threads free while it waits."""

from __future__ import annotations

import io
import threading
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from makegood.store import tables as t
from makegood.store.bulk_copy_out import copy_out_csv
from makegood.store.engine import make_engine

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 3, 23, 9, 0, 0, 123456, tzinfo=UTC)
# What a CSV must quote or keep apart: quotes, commas, line breaks, a backslash, text that is
# not ASCII (Latin-1's, and beyond it in UTF-8), an empty text beside a NULL.
ODD = [
    (1, 'say "hi", then go', NOW),
    (2, "two\nlines\r\nand a \\N", None),
    (3, "plän-é", NOW),
    (4, "", None),
    (5, None, NOW),
]
ODD_QUERY = "SELECT id, note, at FROM odd WHERE note IS DISTINCT FROM 'ünused' ORDER BY id"


@pytest.fixture
def engine(pg_database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(pg_database_url)
    yield engine
    engine.dispose()


def export(conn: sa.Connection, query: str) -> bytes:
    out = io.BytesIO()
    copy_out_csv(conn, query, out)
    return out.getvalue()


def add_plan(conn: sa.Connection, plan_id: str) -> None:
    conn.execute(
        t.plans.insert().values(
            plan_id=plan_id, name=plan_id, monthly_price_minor=999, currency="USD", updated_at=NOW
        )
    )


def test_the_export_runs_in_the_transaction_it_starts(engine: sa.Engine) -> None:
    """On a connection that has run nothing yet (psycopg begins lazily), the COPY belongs to
    the transaction that the statements after it run in, not to one of its own."""
    with engine.connect() as conn:
        exported = export(conn, "SELECT txid_current()")
        assert exported == b"%d\n" % conn.exec_driver_sql("SELECT txid_current()").scalar_one()


def test_the_export_sees_the_transactions_own_rows_and_the_transaction_goes_on(
    engine: sa.Engine,
) -> None:
    with engine.connect() as conn:
        add_plan(conn, "pln-uncommitted")
        query = "SELECT plan_id FROM plans ORDER BY plan_id"
        assert export(conn, query) == b"pln-uncommitted\n"
        with engine.connect() as other:
            assert export(other, query) == b""
        add_plan(conn, "pln-after")
        conn.commit()
    with engine.connect() as conn:
        assert export(conn, query) == b"pln-after\npln-uncommitted\n"


@pytest.mark.parametrize("encoding", ["utf8", "latin1"])
def test_the_bytes_are_those_of_psycopgs_copy(pg_database_url: str, encoding: str) -> None:
    url = make_url(pg_database_url).update_query_dict({"client_encoding": encoding})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE odd (id int, note text, at timestamptz)")
            conn.execute(
                sa.text("INSERT INTO odd VALUES (:id, :note, :at)"),
                [{"id": i, "note": n, "at": a} for i, n, a in ODD]
                + ([{"id": 6, "note": "日本-€", "at": None}] if encoding == "utf8" else []),
            )
            driver = conn.connection.driver_connection
            assert driver is not None
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY ({ODD_QUERY}) TO STDOUT (FORMAT csv)") as copy,
            ):
                expected = b"".join(bytes(data) for data in copy)
            assert b'"say ""hi"", then go"' in expected
            assert b',"",' in expected
            assert export(conn, ODD_QUERY) == expected
    finally:
        engine.dispose()


def test_a_server_error_mid_copy_is_raised_and_the_connection_rolls_back_and_goes_on(
    engine: sa.Engine,
) -> None:
    with engine.connect() as conn:
        add_plan(conn, "pln-rolled-back")
        out = io.BytesIO()
        with pytest.raises(psycopg.errors.DivisionByZero, match="division by zero"):
            copy_out_csv(conn, "SELECT g, 1 / (g - 50000) FROM generate_series(1, 100000) g", out)
        assert out.getvalue().count(b"\n") == 49_999  # the rows before the failing one came
        conn.rollback()
        assert export(conn, "SELECT plan_id FROM plans") == b""
        add_plan(conn, "pln-kept")
        conn.commit()
    with engine.connect() as conn:
        assert export(conn, "SELECT plan_id FROM plans") == b"pln-kept\n"


def test_a_statement_timeout_is_raised_and_the_connection_goes_on(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL statement_timeout = '50ms'")
        slow = "SELECT g FROM generate_series(1, 100000) g WHERE pg_sleep(0.001) IS NOT NULL"
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            export(conn, slow)
        conn.rollback()
        assert export(conn, "SELECT 1") == b"1\n"


def test_a_query_the_server_refuses_is_raised_and_the_connection_goes_on(
    engine: sa.Engine,
) -> None:
    with engine.connect() as conn:
        with pytest.raises(psycopg.errors.UndefinedColumn):
            export(conn, "SELECT no_such_column FROM plans")
        conn.rollback()
        assert export(conn, "SELECT 2") == b"2\n"


class FailingSink:
    """A file that fails on its fourth write, as a full disk would."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: Any) -> int:
        self.writes += 1
        if self.writes > 3:
            raise OSError(28, "No space left on device")
        return len(data)


def test_a_failure_writing_the_file_is_raised_and_the_connection_goes_on(
    engine: sa.Engine,
) -> None:
    """The server's COPY, still sending, is cancelled and drained: the connection is not left
    in the middle of a COPY."""
    with engine.connect() as conn:
        sink = FailingSink()
        with pytest.raises(OSError, match="No space left"):
            copy_out_csv(conn, "SELECT g FROM generate_series(1, 10000000) g", sink)
        assert sink.writes == 4
        conn.rollback()
        add_plan(conn, "pln-after-failure")
        conn.commit()
        assert export(conn, "SELECT plan_id FROM plans") == b"pln-after-failure\n"


def test_an_interrupt_before_the_copy_starts_leaves_the_connection_usable(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted while the server has not answered yet (a plan, a lock wait): the query is
    cancelled and its results read; there is no copy data to drain (libpq: "no COPY in
    progress", which closed the connection)."""
    from makegood.store import bulk_copy_out

    def interrupted(*_args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bulk_copy_out, "_next_result", interrupted)
    with engine.connect() as conn:
        with pytest.raises(KeyboardInterrupt):
            copy_out_csv(conn, "SELECT g FROM generate_series(1, 10000000) g", io.BytesIO())
        monkeypatch.undo()
        driver = conn.connection.driver_connection
        assert driver is not None
        assert not driver.closed
        conn.rollback()
        add_plan(conn, "pln-after-interrupt")
        conn.commit()
        assert export(conn, "SELECT plan_id FROM plans") == b"pln-after-interrupt\n"


class CountingSink:
    def __init__(self) -> None:
        self.size = 0
        self.largest = 0

    def write(self, data: Any) -> int:
        self.size += len(data)
        self.largest = max(self.largest, len(data))
        return len(data)


def test_rows_are_written_as_they_come_not_held(engine: sa.Engine) -> None:
    """20 MB exported while Python's own allocations stay under 2 MB at their peak."""
    rows = 100_000
    query = "SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g"
    sink = CountingSink()
    with engine.connect() as conn:
        tracemalloc.start()
        try:
            copy_out_csv(conn, query, sink)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert sink.size == sum(len(f"{g},{'x' * 200}\n") for g in range(1, rows + 1))
    assert sink.largest < 1_000
    assert peak < 2_000_000


def test_other_threads_run_while_the_export_waits_for_the_server(engine: sa.Engine) -> None:
    """The export waits on the socket without the GIL: while its query waits for a lock held
    here, this thread goes on (and releases it). A libpq call that blocked holding the GIL
    would stop this thread until the export's lock_timeout failed it."""
    with engine.connect() as holder, engine.connect() as watcher:
        holder.exec_driver_sql("SELECT pg_advisory_xact_lock(4242)")
        found: list[bytes] = []
        failed: list[BaseException] = []

        def run() -> None:
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
                    found.append(export(conn, "SELECT 7 FROM pg_advisory_xact_lock(4242)"))
            except BaseException as exc:  # reported by the asserts below
                failed.append(exc)

        exporter = threading.Thread(target=run)
        exporter.start()
        waiting = 0
        while exporter.is_alive() and not waiting:
            waiting = watcher.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            ).scalar_one()
            watcher.rollback()
        holder.rollback()  # releases the lock: the export goes on
        exporter.join()
    assert failed == []
    assert waiting == 1
    assert found == [b"7\n"]
