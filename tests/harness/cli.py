"""Running a command group the way `makegood` runs it, from a test."""

from __future__ import annotations

import click
from click.testing import CliRunner, Result

from makegood.bootstrap import bootstrap


def invoke(
    group: click.Group, *args: str, stdin: str | None = None, catch_exceptions: bool = True
) -> Result:
    """Invoke `group` with a container built from the environment, as the command would build
    it, but passed in so its engine is disposed afterwards (warnings are errors: no leaked
    connections)."""
    container = bootstrap()
    try:
        return CliRunner().invoke(
            group, list(args), obj=container, input=stdin, catch_exceptions=catch_exceptions
        )
    finally:
        container.engine.dispose()
