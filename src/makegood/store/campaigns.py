"""The campaigns table: a campaign's terms, state and launch progress."""

from __future__ import annotations

from makegood.store.repository import Repository


class Campaigns(Repository):
    """The campaigns table: a campaign's terms, state and launch progress (`uow.campaigns`)."""
