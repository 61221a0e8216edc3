"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from makegood.store.all_tables import metadata
from makegood.store.engine import make_engine
from makegood.store.migrate import current_revision, head_revisions, upgrade


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        assert differences == [], (
            "the tables in src/makegood/store differ from the migrations: write a migration "
            f"(`uv run alembic revision --autogenerate`). Differences: {differences}"
        )
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_reaches_every_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)  # the fixture migrated already: running again changes nothing
        assert current_revision(engine) in head_revisions()
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
        assert set(metadata.tables) <= names
    finally:
        engine.dispose()
