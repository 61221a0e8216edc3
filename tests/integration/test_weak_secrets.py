"""Weak secrets refuse to start: a short MAKEGOOD_SECRET_KEY in production, and the public
development secret on a server that listens beyond loopback (issue 12, item 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from makegood.settings import DEV_SECRET, MIN_SECRET_LENGTH, Settings
from tests.harness.net import free_port


@pytest.mark.parametrize("secret", ["", "x", "s" * (MIN_SECRET_LENGTH - 1), DEV_SECRET])
def test_production_refuses_a_short_or_public_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="MAKEGOOD_SECRET_KEY"):
        Settings(environment="production", secret_key=secret)


def test_production_takes_a_long_secret() -> None:
    secret = "k" * MIN_SECRET_LENGTH
    assert Settings(environment="production", secret_key=secret).secret_key == secret


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`makegood serve ARGS` with `env`; a server that starts is stopped and fails the test."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MAKEGOOD_ENVIRONMENT", "MAKEGOOD_SECRET_KEY")
    }
    environment["MAKEGOOD_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    environment.update(env)
    command = [sys.executable, "-m", "makegood", "serve", "--port", str(free_port()), *args]
    try:
        return subprocess.run(
            command, check=False, env=environment, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the server started instead of refusing its settings")


@pytest.mark.parametrize("secret", ["", "x"])
def test_serve_refuses_a_short_secret_in_production(tmp_path: Path, secret: str) -> None:
    result = serve(tmp_path, MAKEGOOD_ENVIRONMENT="production", MAKEGOOD_SECRET_KEY=secret)
    assert result.returncode == 2
    assert result.stderr.startswith("error: MAKEGOOD_SECRET_KEY")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])  # noqa: S104 - the point
def test_serve_refuses_the_development_secret_beyond_loopback(tmp_path: Path, host: str) -> None:
    result = serve(tmp_path, "--host", host)
    assert result.returncode == 2
    assert result.stderr.startswith("error: MAKEGOOD_SECRET_KEY")
    assert host in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
