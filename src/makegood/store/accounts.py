"""The accounts table: subscribers as imported."""

from __future__ import annotations

from makegood.store.repository import Repository


class Accounts(Repository):
    """The accounts table: subscribers as imported (`uow.accounts`)."""


class Plans(Repository):
    """The plans table: prices per plan and currency (`uow.plans`)."""
