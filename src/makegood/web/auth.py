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
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

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
NO_KEY = "give a live API key: Authorization: Bearer <key>"
# Methods that carry a body: the caller is authenticated before any of it is read.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

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

    def api_key(self, request: Request, raw: str | None) -> ApiKey | None:
        """The request's live API key, resolved once per request (AuthenticateFirst may have)."""
        if not hasattr(request.state, "api_key"):
            with self.container.uow() as uow:
                request.state.api_key = resolve_api_key(uow, raw)
        found: ApiKey | None = request.state.api_key
        return found

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
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> ApiKey:
            raw = credentials.credentials if credentials is not None else None
            key = self.api_key(request, raw)
            if key is None:
                raise ApiUnauthorized(NO_KEY)
            if name not in key.scopes:
                raise Forbidden(f"this API key lacks the scope {name}")
            return key

        return dependency


def bearer_value(request: Request) -> str | None:
    """The value of `Authorization: Bearer <value>`, else None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class AuthenticateFirst:
    """Refuses a request that carries a body before any of it is read, when its caller is not
    authenticated: FastAPI parses a route's body before it runs the route's dependencies, so
    without this an anonymous caller's JSON or form is parsed before the 401.

    `kind="api"`: a live API key (401 otherwise); the scope is still checked by the route.
    `kind="console"`: a live session, except for the login form (to the login page otherwise).
    The resolved key or session stays on the request, so the route's dependency reuses it.
    """

    def __init__(self, app: ASGIApp, *, auth: Auth, kind: str) -> None:
        self.app = app
        self.auth = auth
        self.kind = kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in BODY_METHODS:
            refusal = await run_in_threadpool(self._refusal, Request(scope))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> Response | None:
        if self.kind == "api":
            if self.auth.api_key(request, bearer_value(request)) is not None:
                return None
            return JSONResponse(
                {"error": "unauthorized", "detail": NO_KEY},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if request.url.path.rstrip("/").endswith("/login"):  # the one form before a session
            return None
        if self.auth.session(request) is not None:
            return None
        return RedirectResponse(CONSOLE_PATH + "/login", status_code=303)
