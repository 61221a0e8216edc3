"""Run the packaged Alembic migrations programmatically (`makegood db upgrade`)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: sa.Engine, revision: str = "heads") -> None:
    """Create or migrate the database behind `engine` to `revision`."""
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (one of the heads while branches exist)."""
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) if heads else None


def head_revisions() -> set[str]:
    """The newest revision of each branch of the packaged migrations."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return {",".join(sorted(heads)), *heads}
