"""Who is calling, and may they: console sessions (cookie) and API keys (bearer), in one place.

Console: `Auth.require(permission)` is the only dependency console routes use. It resolves the
session cookie, sends a browser without a session to the login page, answers 403 to a role
without the permission (`ROLE_PERMISSIONS` in services.users decides), and on every POST checks
the form's CSRF token, derived from the session's own secret (synchronizer token).

API: `Auth.scope(name)` resolves `Authorization: Bearer <key>`: 401 without a live key, 403 when
the key lacks the scope.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from makegood.bootstrap import Container
from makegood.services.people import API_ACTOR_PREFIX
from makegood.services.users import (
    ApiKey,
    Permission,
    SessionUser,
    resolve_api_key,
    resolve_session,
)

SESSION_COOKIE = "mg_session"
CONSOLE_PATH = "/console"
CSRF_FIELD = "csrf_token"

bearer = HTTPBearer(auto_error=False, description="An API key from `makegood apikey create`.")


class LoginRequired(Exception):
    """No live session: the browser goes to the login page and comes back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__("login required")
        self.next_path = next_path


class Forbidden(Exception):
    """Signed in (or a valid key), but not allowed to do this."""


class ApiUnauthorized(Exception):
    """No API key, or one that is unknown or revoked."""


def console_csrf_token(secret_key: str, csrf_secret: str) -> str:
    """The hidden field of every console form for the session with `csrf_secret`."""
    return hmac.new(
        secret_key.encode(), f"console:{csrf_secret}".encode(), hashlib.sha256
    ).hexdigest()


def api_actor(key: ApiKey) -> str:
    return f"{API_ACTOR_PREFIX}{key.id}"


class Auth:
    """Builds the authentication dependencies over one container."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def session(self, request: Request) -> SessionUser | None:
        """The request's signed-in user, resolved once per request."""
        if not hasattr(request.state, "session_user"):
            with self.container.uow() as uow:
                request.state.session_user = resolve_session(
                    uow, request.cookies.get(SESSION_COOKIE), self.container.now()
                )
        found: SessionUser | None = request.state.session_user
        return found

    def require(self, permission: Permission) -> Callable[[Request], Awaitable[SessionUser]]:
        """A dependency: the signed-in user, who has `permission`; CSRF-checked on POST."""

        async def dependency(request: Request) -> SessionUser:
            current = self.session(request)
            if current is None:
                raise LoginRequired(request.url.path)
            if not current.user.can(permission):
                raise Forbidden(f"your role ({current.user.role}) may not do this")
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                form = await request.form()
                submitted = form.get(CSRF_FIELD)
                expected = console_csrf_token(
                    self.container.settings.secret_key, current.csrf_secret
                )
                if not isinstance(submitted, str) or not hmac.compare_digest(
                    expected.encode(), submitted.encode("utf-8", "replace")
                ):
                    raise Forbidden(
                        "the form's security token is missing or stale: reload the page"
                    )
            return current

        return dependency

    def scope(self, name: str) -> Callable[..., ApiKey]:
        """A dependency: the live API key of the request, which has scope `name`."""

        def dependency(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> ApiKey:
            raw = credentials.credentials if credentials is not None else None
            with self.container.uow() as uow:
                key = resolve_api_key(uow, raw)
            if key is None:
                raise ApiUnauthorized("give a live API key: Authorization: Bearer <key>")
            if name not in key.scopes:
                raise Forbidden(f"this API key lacks the scope {name}")
            return key

        return dependency
