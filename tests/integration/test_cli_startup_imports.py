"""A command with no work to do starts without the libraries other commands need (issue 13,
item 4): `makegood campaign approve` of an unknown campaign, as a user runs it, imports no web
framework, template engine, migration tool, log engine, ORM, pydantic or pydantic-core, nor the
other campaign commands' modules, and on SQLite no PostgreSQL driver or dialect. What it imports
is read from `python -X importtime`, never timed here (bench/startup.py prints the times)."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy.engine import make_url

# Top-level packages (or makegood's own areas) a no-work approve must not import.
HEAVY = (
    "alembic",
    "argon2",
    "babel",
    "duckdb",
    "fastapi",
    "httpx",
    "jinja2",
    "makegood.domain.money",  # amounts: `campaign reverse` prints some, approve none
    "makegood.domain.policy",  # the credit policies: approve reads only the state
    "makegood.notify",
    "makegood.services.campaign_command",  # `campaign create`'s
    "makegood.services.campaigns",  # drafts and previews (services/campaign_approval.py)
    "makegood.store.tables",  # every table: approve declares campaigns only (tables_campaigns.py)
    "makegood.telemetry.cohort",
    "makegood.telemetry.engine",  # DuckDB's set-up: `--engine` names it only
    "makegood.web",
    "matplotlib",
    "pyarrow",
    "pydantic",
    "pydantic_core",  # the settings are read without it when they can be (settings_fields.py)
    "pydantic_settings",
    "pyspark",
    "sqlalchemy.orm",
    "starlette",
)


def imported_modules(stderr: str) -> set[str]:
    """The modules a `-X importtime` run imported, from its report on standard error."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and not line.endswith("| imported package"):
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def _loaded(modules: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in modules)


def test_approve_with_no_work_imports_only_what_it_needs(database_url: str) -> None:
    env = {**os.environ, "MAKEGOOD_DATABASE_URL": database_url}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "makegood", "campaign", "approve", "cmp_x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 3, out.stderr[-2000:]
    assert "error: no campaign 'cmp_x'" in out.stderr
    modules = imported_modules(out.stderr)
    assert "sqlalchemy" in modules  # the report was read
    heavy = [package for package in HEAVY if _loaded(modules, package)]
    if make_url(database_url).get_backend_name() == "sqlite":
        # The dialect too: declared in store/tables.py, a partial index's `postgresql_where`
        # loaded it (store/partial_indexes.py says why they live apart).
        postgresql = ("psycopg", "psycopg_binary", "sqlalchemy.dialects.postgresql")
        heavy += [package for package in postgresql if _loaded(modules, package)]
    assert heavy == []
