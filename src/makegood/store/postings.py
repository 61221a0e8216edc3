"""The connector_postings table: credits pushed to a billing connector."""

from __future__ import annotations

from makegood.store.repository import Repository


class Postings(Repository):
    """The connector_postings table: credits pushed to a billing connector (`uow.postings`)."""
