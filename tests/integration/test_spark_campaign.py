"""`makegood campaign create --engine spark`: the same draft as the default DuckDB engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from makegood.bootstrap import Container
from makegood.cli import campaign_cmds
from makegood.services.imports import import_accounts, import_plans
from makegood.services.incidents import create_incident
from makegood.store import tables as t
from makegood.telemetry import spark as spark_cohort
from makegood.telemetry.demo_world import generate_world
from makegood.telemetry.spark_session import get_spark

pytestmark = pytest.mark.slow


@click.group()
def cli() -> None:
    """The root group with only the commands under test."""


campaign_cmds.register(cli)


@pytest.fixture(scope="module", autouse=True)
def spark() -> Any:
    """One local Spark session for the tests (start-up takes seconds); stopped at exit."""
    return get_spark()


@pytest.fixture
def world(container: Container, tmp_path: Path) -> tuple[str, str]:
    """A small generated world imported into the database: (incident id, attempts dir)."""
    made = generate_world(tmp_path / "world", accounts=600, days=2, attempts_per_account_day=6)
    import_plans(container, made.plans_path)
    import_accounts(container, made.accounts_path)
    with container.uow() as uow:
        incident_id = create_incident(
            uow,
            "Generated outage",
            made.outage_starts_at,
            made.outage_ends_at,
            list(made.outage_regions),
            list(made.outage_devices),
            container.now(),
        )
        uow.commit()
    return incident_id, str(made.attempts_dir)


def run(container: Container, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=container)


def members(container: Container, campaign_id: str) -> list[tuple[Any, ...]]:
    """The draft's cohort_members rows without the campaign id, by account."""
    columns = [c for c in t.cohort_members.c if c.name != "campaign_id"]
    with container.uow() as uow:
        return [
            tuple(row)
            for row in uow.conn.execute(
                sa.select(*columns)
                .where(t.cohort_members.c.campaign_id == campaign_id)
                .order_by(t.cohort_members.c.account_id)
            )
        ]


def test_campaign_create_on_spark_stores_the_duckdb_cohort(
    container: Container, world: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id, events = world
    on_spark: list[object] = []
    compute = spark_cohort.compute_cohort_spark

    def spy(*args: Any, **kwargs: Any) -> Any:
        on_spark.append(args[0])
        return compute(*args, **kwargs)

    monkeypatch.setattr(spark_cohort, "compute_cohort_spark", spy)
    created = {}
    for engine in ("duckdb", "spark"):
        result = run(
            container,
            "campaign",
            "create",
            incident_id,
            "--events",
            events,
            "--engine",
            engine,
            "--strict",
        )
        assert result.exit_code == 0, result.output
        created[engine] = result.stdout.strip()
        assert len(on_spark) == (engine == "spark")  # the engine asked for computed it
    duck, spark = members(container, created["duckdb"]), members(container, created["spark"])
    assert len(duck) > 20  # the outage touched accounts, some eligible, some not
    assert {row[-1] is None for row in duck} == {True, False}
    assert spark == duck


def test_campaign_create_refuses_a_master_without_spark(
    container: Container, world: tuple[str, str]
) -> None:
    incident_id, events = world
    result = run(
        container, "campaign", "create", incident_id, "--events", events, "--master", "local[1]"
    )
    assert result.exit_code == 2
    assert "--master applies to --engine spark only" in result.output
    with container.uow() as uow:
        assert uow.conn.execute(sa.select(sa.func.count()).select_from(t.campaigns)).scalar() == 0


GRADED = """\
measure = "impact_minutes"
[[tier]]
at_least = 1
percent = 3
[[tier]]
at_least = 30
prorata = { unit = "hour", of = "impact" }
[[tier]]
at_least = 120
fixed = { USD = "2.00", EUR = "2.00" }
[cap]
percent = 50
[floor]
amounts = { USD = "0.30", EUR = "0.30", JPY = "40" }
[eligibility]
status_at = "incident"
"""


def test_a_graded_policy_gives_the_same_amounts_on_spark(
    container: Container, world: tuple[str, str], tmp_path: Path
) -> None:
    incident_id, events = world
    policy = tmp_path / "graded.toml"
    policy.write_text(GRADED, encoding="utf-8")
    created = {}
    for engine in ("duckdb", "spark"):
        result = run(
            container, "campaign", "create", incident_id, "--events", events,
            "--engine", engine, "--policy", str(policy),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        created[engine] = result.stdout.strip()
    duck, spark = members(container, created["duckdb"]), members(container, created["spark"])
    assert spark == duck
    names = [c.name for c in t.cohort_members.c if c.name != "campaign_id"]
    used = {row[names.index("tier")] for row in duck} - {None}
    assert len(used) >= 2  # the world's impacts reach more than one tier
