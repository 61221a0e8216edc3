"""Fixtures of the integration tests: the web app's test client, an SMTP server that records
what it accepts, the database URL in the environment for commands."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.settings import get_settings
from makegood.web.app import create_app
from tests.harness.net import free_port
from tests.harness.postgres import BARE_PASSWORD
from tests.harness.smtp import RecordingHandler


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingHandler, str]]:
    """A real SMTP server (aiosmtpd) on a free port: (its handler, its smtp:// URL)."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    """The web app in-process, redirects not followed."""
    with TestClient(create_app(container), follow_redirects=False) as client:
        yield client


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The database's URL in MAKEGOOD_DATABASE_URL, for commands that build their own container."""
    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no makegood tables: a new SQLite file, an empty PostgreSQL database
    (its URL with a password, BARE_PASSWORD, which PostgreSQL's trust authentication ignores)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server = request.getfixturevalue("postgres_server")  # tests/conftest.py's PostgresServer
    name = f"mg_bare_{secrets.token_hex(6)}"
    with server.admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(server.url_for(name)).set(password=BARE_PASSWORD)
    yield url.render_as_string(hide_password=False)
    server.drop(name)
