"""Console users, their server-side sessions, and API keys: create, authenticate, resolve.

Contracts: passwords are stored only as argon2 hashes; session ids and API keys are random
(32 bytes) and stored only as SHA-256; a session or key that is unknown, expired, revoked or
belongs to a disabled user resolves to None, never to an error that says which.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from makegood.domain.errors import InvalidInput, NotFound
from makegood.domain.ids import new_id
from makegood.domain.money import MoneyError, parse_amount
from makegood.store.uow import UnitOfWork

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    VIEWER = "viewer"
    AGENT = "agent"
    APPROVER = "approver"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"  # every page of the console
    SUPPORT = "support"  # resend, extend, goodwill grant
    CAMPAIGN_WRITE = "campaign_write"  # create a campaign from an incident
    CAMPAIGN_APPROVE = "campaign_approve"  # approve and launch
    INCIDENT_WRITE = "incident_write"
    ADMIN = "admin"  # see users and API keys, revoke keys


# The one table of who may do what; the web layer asks `allows`, nothing else decides.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.AGENT: frozenset({Permission.READ, Permission.SUPPORT}),
    Role.APPROVER: frozenset(
        {
            Permission.READ,
            Permission.CAMPAIGN_WRITE,
            Permission.CAMPAIGN_APPROVE,
            Permission.INCIDENT_WRITE,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}

# API scopes: `makegood apikey create --scope S` refuses anything else.
SCOPES = frozenset(
    {
        "incidents:read",
        "incidents:write",
        "campaigns:read",
        "campaigns:write",
        "offers:read",
        "accounts:read",
        "audit:read",
        "messages:read",
        "messages:write",
    }
)


def allows(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    role: str
    grant_limits: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    version: int = 0  # users.session_version when read: a session opened now carries it

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


@dataclass(frozen=True, slots=True)
class SessionUser:
    """A signed-in user and the CSRF secret of their session."""

    user: User
    csrf_secret: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[str]
    owner_user_id: str | None = None  # the console user behind the key; None: its own person


def _user(row: Mapping[str, Any]) -> User:
    return User(
        row["id"],
        row["email"],
        row["role"],
        dict(row["grant_limits"] or {}),
        row["session_version"],
    )


def hash_password(password: str) -> str:
    """The argon2id hash stored for `password`."""
    return _hasher.hash(password)


def parse_grant_limits(values: Iterable[str]) -> dict[str, int]:
    """`["USD=20", "JPY=3000"]` -> minor units per currency; InvalidInput names the bad one."""
    limits: dict[str, int] = {}
    for value in values:
        currency, sep, amount = value.partition("=")
        try:
            if not sep:
                raise MoneyError("write it as CUR=AMOUNT")
            money = parse_amount(amount, currency.strip().upper())
        except (MoneyError, ValueError) as exc:
            raise InvalidInput(f"--grant-limit {value!r}: {exc} (e.g. USD=20)") from None
        if money.minor < 0:
            raise InvalidInput(f"--grant-limit {value!r}: the limit cannot be negative")
        limits[money.currency] = money.minor
    return limits


def add_user(
    uow: UnitOfWork,
    email: str,
    role: str,
    password: str,
    now: datetime,
    grant_limits: Mapping[str, int] | None = None,
    actor: str = "cli",
) -> str:
    """Create a console user and commit; InvalidInput for a bad role, e-mail or short password."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or email.startswith("@"):
        raise InvalidInput(f"EMAIL: {email!r} is not an e-mail address")
    try:
        Role(role)
    except ValueError:
        raise InvalidInput(
            f"--role: {role!r} is not a role; use one of {', '.join(r.value for r in Role)}"
        ) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if uow.users.by_email(email) is not None:
        raise InvalidInput(f"a user {email} exists already")
    user_id = new_id("usr")
    uow.users.add(user_id, email, hash_password(password), role, grant_limits or {}, now)
    uow.audit.record(now, actor, "user.created", "user", user_id, {"role": role})
    return user_id


def authenticate(uow: UnitOfWork, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (same cost either way)."""
    row = uow.users.active_by_email(email.strip().lower())
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(row) if row is not None else None


def start_session(uow: UnitOfWork, user: User, now: datetime) -> str:
    """Open a session for `user` and commit; returns the raw id for the cookie (shown once)."""
    raw = secrets.token_urlsafe(32)
    uow.users.open_session(
        sha256_hex(raw), user.id, secrets.token_hex(32), user.version, now, now + SESSION_LIFETIME
    )
    uow.audit.record(now, user.email, "user.login", "user", user.id)
    return raw


def resolve_session(uow: UnitOfWork, raw: str | None, now: datetime) -> SessionUser | None:
    """The user behind a session cookie, if the session is live, the user enabled, and nothing
    that ends sessions (disable, role, password: services.user_admin) happened since it opened.

    Read on every request, so such a change takes effect on the user's next request."""
    if not raw or len(raw) > 128:
        return None
    row = uow.users.live_session(sha256_hex(raw), now)
    if row is None:
        return None
    return SessionUser(_user(row), row["csrf_secret"], row["expires_at"])


def end_session(uow: UnitOfWork, raw: str | None, now: datetime) -> None:
    """Delete the session (logout) and commit; an unknown id is fine."""
    if raw:
        uow.users.end_session(sha256_hex(raw), now)  # and sweeps everyone's expired ones


def create_api_key(
    uow: UnitOfWork,
    scopes: Iterable[str],
    name: str,
    now: datetime,
    actor: str = "cli",
    owner: str | None = None,
) -> tuple[str, str]:
    """Create a key with `scopes` and commit; returns (id, raw key). Only the hash is kept.

    `owner` is the e-mail of the console user who stands behind the key (NotFound when there
    is none, InvalidInput when disabled); without one the key is its own person."""
    wanted = sorted(set(scopes))
    if not wanted:
        raise InvalidInput(f"--scope: give at least one of {', '.join(sorted(SCOPES))}")
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise InvalidInput(
            f"--scope: unknown scope(s) {', '.join(unknown)}; use {', '.join(sorted(SCOPES))}"
        )
    owner_id = _owner_id(uow, owner) if owner is not None else None
    key_id = new_id("key")
    raw = "mgk_" + secrets.token_urlsafe(32)
    uow.users.add_api_key(
        key_id, name.strip()[:200] or key_id, sha256_hex(raw), wanted, now, owner_id
    )
    detail: dict[str, object] = {"scopes": wanted}
    if owner is not None:
        detail["owner"] = owner.strip().lower()
    uow.audit.record(now, actor, "apikey.created", "apikey", key_id, detail)
    return key_id, raw


def _owner_id(uow: UnitOfWork, email: str) -> str:
    row = uow.users.by_email(email.strip().lower())
    if row is None:
        raise NotFound(f"--owner: no user {email!r}; `makegood user list` shows them")
    if row["disabled_at"] is not None:
        raise InvalidInput(f"--owner: the user {email!r} is disabled")
    return str(row["id"])


def resolve_api_key(uow: UnitOfWork, raw: str | None) -> ApiKey | None:
    """The live key behind a bearer value, else None. A key whose owner is disabled opens
    nothing: locking a person out locks out the keys they hold."""
    if not raw or len(raw) > 128:
        return None
    row = uow.users.live_api_key(sha256_hex(raw))
    if row is None:
        return None
    return ApiKey(row["id"], row["name"], frozenset(row["scopes"]), row["owner_user_id"])


def list_users(uow: UnitOfWork) -> list[dict[str, object]]:
    """Every console user, by e-mail: id, email, role, grant limits, created, disabled; never
    the password hash."""
    return uow.users.listing()


def list_api_keys(uow: UnitOfWork) -> list[dict[str, object]]:
    """Every API key, newest first: id, name, scopes, owner (e-mail or None), created,
    revoked; never the key or its hash."""
    return uow.users.api_key_listing()


def revoke_api_key(uow: UnitOfWork, key_id: str, now: datetime, actor: str = "cli") -> bool:
    """Revoke the key and commit, with its audit entry; from then on it resolves to nothing.

    NotFound for an unknown id. Returns False (and changes nothing) when it was revoked
    already, so running the command twice is harmless."""
    row = uow.users.lock_api_key(key_id)
    if row is None:
        raise NotFound(f"no API key {key_id!r}: `makegood apikey list` shows the ids")
    if row["revoked_at"] is not None:
        return False
    uow.users.revoke_api_key(key_id, now)
    uow.audit.record(now, actor, "apikey.revoked", "apikey", key_id)
    return True
