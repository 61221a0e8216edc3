"""The campaign_reversals table."""

from __future__ import annotations

from makegood.store.repository import Repository


class Reversals(Repository):
    """The campaign_reversals table (`uow.reversals`)."""
