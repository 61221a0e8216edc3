"""The campaign snapshot (`cohort_members`): its bulk reads for the engine and its bulk write.

Eligibility runs in the analysis engine (telemetry.eligibility), which needs the accounts,
their plans and the accounts already offered for the incident. Those leave the database as
headerless CSV files streamed to disk (PostgreSQL: COPY TO STDOUT through libpq,
store.bulk_copy_out; SQLite: rows fetched a chunk at a time), so memory stays bounded
whatever the number of accounts. The decided rows come back in account_id order as the
engine's Arrow batches: streamed into COPY FROM STDIN in its binary format on PostgreSQL (no
file), inserted with executemany on SQLite.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.bulk_copy_out import copy_out_csv
from makegood.store.bulk_insert import binary_kinds, copy_binary_rows
from makegood.store.campaigns import Campaigns
from makegood.store.repository import Repository

_COPY_ROWS = 50_000  # rows per batch streamed into a COPY
_FETCH_ROWS = 50_000  # rows per chunk read or written on SQLite
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SNAPSHOT_COLUMNS = (
    "campaign_id",
    "account_id",
    "failed_attempts",
    "first_failure_at",
    "last_failure_at",
    "excluded_reason",
    "plan_id",
    "currency",
    "amount_minor",
    "impact_minutes",
    "tier",
    "why",
    "why_count",
)


@dataclass(frozen=True)
class EligibilityFiles:
    """Headerless CSV files: accounts (account_id, status, plan_id, cancelled_since_start: 1
    when cancelled at or after the incident's start, else 0), plans (plan_id, price_minor,
    currency), offered (account_id)."""

    accounts: str
    plans: str
    offered: str


def _queries(incident_id: str) -> dict[str, sa.Select[Any]]:
    # Compared in the database, against the incident's own column: the same stored form on
    # both sides, nothing to render as a literal for COPY.
    start = sa.select(t.incidents.c.starts_at).where(t.incidents.c.id == incident_id)
    cancelled_since_start = sa.case(
        (t.accounts.c.cancelled_at >= start.scalar_subquery(), 1), else_=0
    )
    return {
        "accounts": sa.select(
            t.accounts.c.account_id,
            t.accounts.c.status,
            t.accounts.c.plan_id,
            cancelled_since_start,
        ),
        "plans": sa.select(t.plans.c.plan_id, t.plans.c.monthly_price_minor, t.plans.c.currency),
        "offered": sa.select(t.offers.c.account_id).where(t.offers.c.incident_id == incident_id),
    }


# The engine's `decisions` table as cohort_members rows, in SNAPSHOT_COLUMNS order but for the
# campaign (one value, encoded once), each column cast to the type its column in the table has
# (binary_kinds), so DuckDB's Arrow batches always have the same schema. In account_id order:
# each key then lands after the previous one in the primary key's index (the rightmost page,
# which PostgreSQL keeps at hand), where the engine's order (its hash tables') scatters them
# over the whole index; at 680k rows that halved the COPY's time.
_DUCKDB_TYPES = {
    "text": "VARCHAR",
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "bool": "BOOLEAN",
    "timestamptz": "TIMESTAMPTZ",
}
_DECISION_SOURCES = {  # the decisions' instants are microseconds since the Unix epoch
    "first_failure_at": "make_timestamp(first_us)",
    "last_failure_at": "make_timestamp(last_us)",
}


def _snapshot_select() -> str:
    kinds = binary_kinds(t.cohort_members, SNAPSHOT_COLUMNS)
    cast = [
        f"CAST({_DECISION_SOURCES.get(column, column)} AS {_DUCKDB_TYPES[kind]})"
        for column, kind in zip(SNAPSHOT_COLUMNS[1:], kinds[1:], strict=True)
    ]
    return f"SELECT {', '.join(cast)} FROM decisions ORDER BY account_id"  # noqa: S608 - our names


class Cohort(Repository):
    """The cohort_members table: a campaign's snapshot of affected accounts (`uow.cohort`)."""

    # The snapshot's bulk read and write (the build: services.campaign_build).

    def export_eligibility_inputs(self, incident_id: str, directory: Path) -> EligibilityFiles:
        """Write what eligibility reads of the database into `directory`, in the connection's
        transaction (so the snapshot and the facts it was decided on are one view)."""
        paths = {}
        for name, query in _queries(incident_id).items():
            path = directory / f"{name}.csv"
            if self.dialect == "postgresql":
                self._copy_out(query, path)
            else:
                self._fetch_out(query, path)
            paths[name] = str(path)
        return EligibilityFiles(**paths)

    def _copy_out(self, query: sa.Select[Any], path: Path) -> None:
        sql = str(query.compile(self.conn, compile_kwargs={"literal_binds": True}))
        with path.open("wb") as out:
            copy_out_csv(self.conn, sql, out)

    def _fetch_out(self, query: sa.Select[Any], path: Path) -> None:
        result = self.conn.execution_options(yield_per=_FETCH_ROWS).execute(query)
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            for rows in result.partitions():
                writer.writerows(rows)

    def write(
        self, duck: Any, campaign_id: str, progress: Callable[[int], None] | None = None
    ) -> None:
        """Insert the engine's `decisions` (a table in the DuckDB connection `duck`) as the
        snapshot of `campaign_id`, in the connection's transaction. `progress` gets rows
        written.

        The campaign row must exist: checked once here and held (FOR KEY SHARE) until the
        transaction ends, in place of a foreign key checked once per row (migration 0006)."""
        if not Campaigns(self.conn).hold(campaign_id):
            raise LookupError(f"campaign {campaign_id} does not exist: no snapshot written for it")
        if self.dialect == "postgresql":
            self._copy_in(duck, campaign_id, progress)
            # Statistics now, not when autovacuum gets to it: the approval's summaries and the
            # launch read this snapshot next, and without them the planner takes a campaign's
            # 600k members for a few hundred rows. A sample of 3,000 rows gives those counts
            # (0.04 s, where the default's 30,000 took 0.3-0.9 s); autovacuum, seeing the rows
            # written, analyzes the table in full later.
            self.conn.exec_driver_sql("SET LOCAL default_statistics_target = 10")
            self.conn.exec_driver_sql(f"ANALYZE {t.cohort_members.name}")
        else:
            self._insert_batches(duck, campaign_id, progress)

    def _insert_batches(
        self, duck: Any, campaign_id: str, progress: Callable[[int], None] | None
    ) -> None:
        """SQLite: bounded batches through SQLAlchemy (its UTC type stores the instants)."""
        reader = duck.sql(
            "SELECT account_id, failed_attempts, first_us, last_us, excluded_reason, plan_id, "
            "currency, amount_minor, impact_minutes, tier, why, why_count FROM decisions "
            "ORDER BY account_id"
        ).to_arrow_reader(_FETCH_ROWS)
        written = 0
        for batch in reader:
            rows = [
                {
                    "campaign_id": campaign_id,
                    "account_id": r["account_id"],
                    "failed_attempts": r["failed_attempts"],
                    "first_failure_at": _EPOCH + timedelta(microseconds=r["first_us"]),
                    "last_failure_at": _EPOCH + timedelta(microseconds=r["last_us"]),
                    "excluded_reason": r["excluded_reason"],
                    "plan_id": r["plan_id"],
                    "currency": r["currency"],
                    "amount_minor": r["amount_minor"],
                    "impact_minutes": r["impact_minutes"],
                    "tier": r["tier"],
                    "why": r["why"],
                    "why_count": r["why_count"],
                }
                for r in batch.to_pylist()
            ]
            self.conn.execute(t.cohort_members.insert(), rows)
            written += len(rows)
            if progress:
                progress(written)

    def _copy_in(self, duck: Any, campaign_id: str, progress: Callable[[int], None] | None) -> None:
        """The decisions streamed into COPY FROM STDIN in its binary format: DuckDB's Arrow
        batches, each encoded column by column (store.arrow_binary), sent by psycopg's writer
        thread while the next batch is encoded (no file). The server then parses no text:
        COPY BINARY of these rows took it 2.1 s where CSV took 2.5-2.7 s (680k rows), and
        Arrow's CSV writer was slower still at formatting the instants."""
        from makegood.store.arrow_binary import Same, binary_pieces

        kinds = binary_kinds(t.cohort_members, SNAPSHOT_COLUMNS)
        campaign = Same(campaign_id)

        def pieces() -> Iterator[Any]:
            written = 0
            for batch in duck.sql(_snapshot_select()).to_arrow_reader(_COPY_ROWS):
                for rows in binary_pieces([campaign, *batch.columns], kinds, batch.num_rows):
                    yield rows.data
                written += batch.num_rows
                if progress:
                    progress(written)

        copy_binary_rows(self.conn, t.cohort_members, SNAPSHOT_COLUMNS, pieces())

    def add_member(self, row: dict[str, Any]) -> None:
        """The appealing account's evidence in the campaign's snapshot (it was not in it), so the
        claim page, the offer e-mail and the status API show what the logs held."""
        cm = t.cohort_members
        present = self.conn.execute(
            sa.select(cm.c.account_id).where(
                cm.c.campaign_id == row["campaign_id"], cm.c.account_id == row["account_id"]
            )
        ).first()
        if present is None:
            self.conn.execute(cm.insert().values(**row))

    def clear(self, campaign_id: str) -> None:
        """Remove the snapshot of `campaign_id` (a rebuild never adds to an old one)."""
        cm = t.cohort_members
        self.conn.execute(cm.delete().where(cm.c.campaign_id == campaign_id))

    # The snapshot's counts (preview).

    def count_by_reason(self, campaign_id: str) -> list[tuple[str | None, int]]:
        """(excluded reason, accounts) of the snapshot; the reason None counts the eligible."""
        cm = t.cohort_members
        query = (
            sa.select(cm.c.excluded_reason, sa.func.count())
            .where(cm.c.campaign_id == campaign_id)
            .group_by(cm.c.excluded_reason)
        )
        return [(reason, int(count)) for reason, count in self.conn.execute(query)]

    def liability(self, campaign_id: str) -> list[tuple[str, int]]:
        """(currency, total minor units) of the eligible accounts, by currency."""
        cm = t.cohort_members
        query = (
            sa.select(cm.c.currency, sa.func.sum(cm.c.amount_minor))
            .where(cm.c.campaign_id == campaign_id, cm.c.excluded_reason.is_(None))
            .group_by(cm.c.currency)
            .order_by(cm.c.currency)
        )
        return [(currency, int(total)) for currency, total in self.conn.execute(query)]

    def by_tier(self, campaign_id: str) -> list[tuple[int, str, int, int]]:
        """(tier index, currency, eligible accounts, total minor units), by tier and currency;
        accounts without a tier are left out."""
        cm = t.cohort_members
        query = (
            sa.select(cm.c.tier, cm.c.currency, sa.func.count(), sa.func.sum(cm.c.amount_minor))
            .where(_eligible(campaign_id), cm.c.tier.is_not(None))
            .group_by(cm.c.tier, cm.c.currency)
            .order_by(cm.c.tier, cm.c.currency)
        )
        return [(tier, cur, int(n), int(total)) for tier, cur, n, total in self.conn.execute(query)]

    def by_amount(self, campaign_id: str) -> list[tuple[str, int, int]]:
        """(currency, amount in minor units, eligible accounts), by currency and amount."""
        cm = t.cohort_members
        query = (
            sa.select(cm.c.currency, cm.c.amount_minor, sa.func.count())
            .where(_eligible(campaign_id))
            .group_by(cm.c.currency, cm.c.amount_minor)
            .order_by(cm.c.currency, cm.c.amount_minor)
        )
        return [(cur, int(minor), int(n)) for cur, minor, n in self.conn.execute(query)]


def _eligible(campaign_id: str) -> sa.ColumnElement[bool]:
    cm = t.cohort_members
    return sa.and_(cm.c.campaign_id == campaign_id, cm.c.excluded_reason.is_(None))
