"""Builds the container once per command invocation."""

from __future__ import annotations

import click

from makegood.bootstrap import Container, bootstrap


def container(ctx: click.Context | None = None) -> Container:
    """The command's container, created on first use and kept on the click context."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = bootstrap()
        # Close pooled connections when the command ends (tests run many commands per process).
        root.call_on_close(root.obj.engine.dispose)
    assert isinstance(root.obj, Container)
    return root.obj
