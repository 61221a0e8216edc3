"""An administrator's view of the test's PostgreSQL database: dropping other connections."""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.engine import make_engine

# The password in the URL of tests/integration/conftest.py's `bare_database_url` (PostgreSQL's
# trust authentication never asks for it): what messages must not show.
BARE_PASSWORD = "s3cret-not-shown"


def admin_engine(url: str) -> sa.Engine:
    return make_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def terminate_other_backends(admin: sa.Engine, in_transaction_only: bool = False) -> int:
    """Drop every other connection to this database (or those mid-transaction); how many."""
    with admin.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid, xact_start IS NOT NULL FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        ).all()
        victims = [pid for pid, busy in pids if busy or not in_transaction_only]
        for pid in victims:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return len(victims)
