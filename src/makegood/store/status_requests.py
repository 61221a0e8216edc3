"""The credit_status_requests table."""

from __future__ import annotations

from makegood.store.repository import Repository


class StatusRequests(Repository):
    """The credit_status_requests table (`uow.status_requests`)."""
