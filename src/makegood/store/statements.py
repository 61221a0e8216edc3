"""The statements and statement_lines tables."""

from __future__ import annotations

from makegood.store.repository import Repository


class Statements(Repository):
    """The statements and statement_lines tables (`uow.statements`)."""
