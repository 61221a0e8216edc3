"""Settings for a test: its database, a mail folder and events root under tmp_path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from makegood.bootstrap import Container
from makegood.settings import Settings


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "mail_dir": tmp_path / "mail",
        "public_url": "http://claims.test",
        "smtp_url": None,
        # The API and console read attempt logs only under this directory (docs/security.md).
        "events_root": tmp_path,
    }
    values.update(overrides)
    return Settings(**values)


def with_settings(container: Container, **changes: object) -> Container:
    """The container with some settings changed."""
    return replace(container, settings=container.settings.model_copy(update=changes))
