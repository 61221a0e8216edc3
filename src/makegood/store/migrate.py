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


def schema_behind(engine: sa.Engine, *, unreachable: bool = False) -> str | None:
    """How the schema of the database behind `engine` differs from the newest migration, and
    what to do; None when it is at the newest. A command asks only after a table or column was
    found missing, so that it pays nothing at start (a database that does not answer then is
    None); a long-running process asks at start, with `unreachable=True`: the driver's error
    is raised."""
    try:
        revision = current_revision(engine)
    except sa.exc.DBAPIError:
        if unreachable:
            raise
        return None
    if revision in head_revisions():
        return None
    if revision is None:
        return "has no makegood tables (it was never migrated): run `makegood db upgrade`"
    scripts = ScriptDirectory.from_config(alembic_config())
    newest = ", ".join(sorted(scripts.get_heads()))
    known = {script.revision for script in scripts.walk_revisions()}
    if not set(revision.split(",")) <= known:
        return (
            f"is at migration {revision}, which this makegood does not know (a newer makegood "
            f"migrated it; this one needs {newest}): run the newer makegood"
        )
    return (
        f"is at migration {revision}, older than this makegood's {newest}: "
        "run `makegood db upgrade` (it migrates the data in place)"
    )
