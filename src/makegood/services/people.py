"""Who stands behind an actor: the person the four-eyes rule compares, on every channel.

Actors are recorded as the console user's e-mail or `apikey:<key id>`. A key names the console
user who owns it (`makegood apikey create --owner EMAIL`), so a user and every key they own are
one person; a key without an owner is its own person. The terminal (`cli`) and any other actor
are compared as written.
"""

from __future__ import annotations

from makegood.store.uow import UnitOfWork

API_ACTOR_PREFIX = "apikey:"


def person_of(uow: UnitOfWork, actor: str) -> str:
    """`user:<id>` for a console user or a key they own, `apikey:<id>` for a key without
    owner, else the actor itself (lower-cased)."""
    if actor.startswith(API_ACTOR_PREFIX):
        found, owner = uow.users.api_key_owner_id(actor.removeprefix(API_ACTOR_PREFIX))
        if found:
            return f"user:{owner}" if owner is not None else actor
    # Not a key: an e-mail of a console user (looked up even when it looks like a key actor,
    # so no e-mail can pass for someone else).
    user = uow.users.by_email(actor.strip().lower())
    return f"user:{user['id']}" if user is not None else actor.strip().lower()


def same_person(uow: UnitOfWork, first: str, second: str) -> bool:
    """Whether the two actors are one person (see `person_of`)."""
    return person_of(uow, first) == person_of(uow, second)
