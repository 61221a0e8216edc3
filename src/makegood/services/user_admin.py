"""Locking console users out: disable, enable, change the role, set a new password.

Every change that should end what the user is doing (disable, role, password) raises
`users.session_version` and deletes the user's sessions, in one transaction with its audit entry
(who, what, when). The version is what makes it immediate and race-free: every request checks
its session against the user's current version (`users.resolve_session`), and a sign-in that
checked the old password but stores its session after the change stores the old version, so it
opens nothing. A disabled user cannot sign in, and their API keys open nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.errors import InvalidInput, NotFound
from makegood.services.users import MIN_PASSWORD_LENGTH, Role, hash_password
from makegood.store.tables_web import users, web_sessions
from makegood.store.uow import UnitOfWork


def _locked_user(uow: UnitOfWork, *, email: str | None = None, user_id: str | None = None) -> Any:
    where = users.c.id == user_id if user_id is not None else users.c.email == _norm(email)
    row = (
        uow.conn.execute(
            sa.select(users.c.id, users.c.email, users.c.role, users.c.disabled_at)
            .where(where)
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        shown = email if email is not None else user_id
        raise NotFound(f"no user {shown!r}; `makegood user list` shows them")
    return row


def _norm(email: str | None) -> str:
    return (email or "").strip().lower()


def _end_sessions(uow: UnitOfWork, user_id: str, **values: object) -> None:
    uow.conn.execute(
        users.update()
        .where(users.c.id == user_id)
        .values(session_version=users.c.session_version + 1, **values)
    )
    uow.conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))


def find_user_id(uow: UnitOfWork, email: str) -> str:
    """The id of the user with this e-mail, or NotFound."""
    return str(_locked_user(uow, email=email)["id"])


def set_disabled(
    uow: UnitOfWork, user_id: str, disabled: bool, now: datetime, actor: str = "cli"
) -> bool:
    """Disable (ending every session) or enable the user and commit; False when it already
    was so (nothing changes, nothing is audited)."""
    row = _locked_user(uow, user_id=user_id)
    if (row["disabled_at"] is not None) == disabled:
        return False
    _end_sessions(uow, row["id"], disabled_at=now if disabled else None)
    action = "user.disabled" if disabled else "user.enabled"
    uow.audit.record(now, actor, action, "user", row["id"], {"email": row["email"]})
    return True


def set_role(uow: UnitOfWork, user_id: str, role: str, now: datetime, actor: str = "cli") -> bool:
    """Give the user `role`, end their sessions and commit; False when it was their role."""
    try:
        Role(role)
    except ValueError:
        raise InvalidInput(
            f"--role: {role!r} is not a role; use one of {', '.join(r.value for r in Role)}"
        ) from None
    row = _locked_user(uow, user_id=user_id)
    if row["role"] == role:
        return False
    _end_sessions(uow, row["id"], role=role)
    detail = {"email": row["email"], "from": row["role"], "to": role}
    uow.audit.record(now, actor, "user.role_changed", "user", row["id"], detail)
    return True


def set_password(
    uow: UnitOfWork, user_id: str, password: str, now: datetime, actor: str = "cli"
) -> None:
    """Replace the user's password, end their sessions and commit (the audit entry never
    holds the password)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    row = _locked_user(uow, user_id=user_id)
    _end_sessions(uow, row["id"], password_hash=hash_password(password))
    uow.audit.record(now, actor, "user.password_set", "user", row["id"], {"email": row["email"]})
