"""The credits table: granted credits and what of them was applied."""

from __future__ import annotations

from makegood.store.repository import Repository


class Credits(Repository):
    """The credits table: granted credits and what of them was applied (`uow.credits`)."""
