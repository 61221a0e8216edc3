"""The users, web_sessions and api_keys tables."""

from __future__ import annotations

from makegood.store.repository import Repository


class Users(Repository):
    """The users, web_sessions and api_keys tables (`uow.users`)."""
