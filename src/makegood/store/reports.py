"""Read models across tables: funnels, costs, console lists."""

from __future__ import annotations

from makegood.store.repository import Repository


class Reports(Repository):
    """Read models across tables: funnels, costs, console lists (`uow.reports`)."""
