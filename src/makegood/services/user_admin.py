"""Locking console users out: disable, enable, change the role, set a new password.

Every change that should end what the user is doing (disable, role, password) raises
`users.session_version` and deletes the user's sessions, in one transaction with its audit entry
(who, what, when). The version is what makes it immediate and race-free: every request checks
its session against the user's current version (`users.resolve_session`), and a sign-in that
checked the old password but stores its session after the change stores the old version, so it
opens nothing. A disabled user cannot sign in, and their API keys open nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from makegood.domain.errors import InvalidInput, NotFound
from makegood.services.users import MIN_PASSWORD_LENGTH, Role, hash_password
from makegood.store.uow import UnitOfWork


def _locked_user(
    uow: UnitOfWork, *, email: str | None = None, user_id: str | None = None
) -> Mapping[str, Any]:
    row = uow.users.locked(email=_norm(email), user_id=user_id)
    if row is None:
        shown = email if email is not None else user_id
        raise NotFound(f"no user {shown!r}; `makegood user list` shows them")
    return row


def _norm(email: str | None) -> str:
    return (email or "").strip().lower()


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
    uow.users.change_ending_sessions(row["id"], disabled_at=now if disabled else None)
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
    uow.users.change_ending_sessions(row["id"], role=role)
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
    uow.users.change_ending_sessions(row["id"], password_hash=hash_password(password))
    uow.audit.record(now, actor, "user.password_set", "user", row["id"], {"email": row["email"]})
