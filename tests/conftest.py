"""Shared fixtures: fresh migrated databases (SQLite file and PostgreSQL), a clock, a container."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from makegood.bootstrap import Container
from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade
from tests.harness.clock import FrozenClock, LimitsClock
from tests.harness.settings import make_settings

PG_ADMIN_URL = os.environ.get(
    "MAKEGOOD_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


class PostgresServer:
    """Creates throw-away databases from one migrated template, so each test starts clean."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"mg_tmpl_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create_template(self) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.template}"')
        engine = make_engine(self.url_for(self.template), poolclass=sa.NullPool)
        upgrade(engine)
        engine.dispose()

    def create(self) -> str:
        name = f"mg_t_{secrets.token_hex(6)}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(PG_ADMIN_URL)
    try:
        with server.admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable in CI at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    server.create_template()
    yield server
    server.drop(server.template)
    server.admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, and a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'makegood.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create()
    yield server.url_for(name)
    server.drop(name)


@pytest.fixture
def pg_database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database only (for concurrency tests)."""
    name = postgres_server.create()
    yield postgres_server.url_for(name)
    postgres_server.drop(name)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def container(database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    settings = make_settings(database_url, tmp_path)
    engine = make_engine(settings.database_url)
    yield Container(settings=settings, engine=engine, clock=clock)
    engine.dispose()


@pytest.fixture
def limits_clock(monkeypatch: pytest.MonkeyPatch) -> LimitsClock:
    """Stops the rate limits' time: `limits` reads `time.time()` in its memory store (no clock
    to hand it), so that module's `time` is replaced, and makegood.rate_limits' with it."""
    import limits.storage.memory

    import makegood.rate_limits

    clock = LimitsClock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(makegood.rate_limits, "wall_clock", clock)
    return clock


REDIS_URL = os.environ.get("MAKEGOOD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    """The test Redis (a database of its own); skipped where none answers, failed in CI. Each
    test gets its own key prefix, `redis_prefix`, so tests running at once never share counts."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis must be reachable in CI at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    import redis

    prefix = f"mgtest-{secrets.token_hex(6)}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
    finally:
        client.close()
