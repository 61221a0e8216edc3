"""Console administration (admins only): the users and the API keys, never a secret, and
revoking a key. The revocation is a POST with the session's CSRF token, audited by its service."""

# No `from __future__ import annotations`: FastAPI must see the local Annotated aliases.

from typing import Annotated

from fastapi import Depends, FastAPI, Response
from fastapi.responses import RedirectResponse

from makegood.bootstrap import Container
from makegood.services.users import (
    Permission,
    SessionUser,
    list_api_keys,
    list_users,
    revoke_api_key,
)
from makegood.web.auth import Auth
from makegood.web.console_render import ConsolePages

PREFIX = "/console"
FLASH = {"revoked": "The API key was revoked; it no longer opens the API."}


def add_admin_routes(app: FastAPI, container: Container, auth: Auth, pages: ConsolePages) -> None:
    Admin = Annotated[SessionUser, Depends(auth.require(Permission.ADMIN))]  # noqa: N806

    @app.get("/admin")
    def admin(session: Admin, done: str = "") -> Response:
        """Users (e-mail, role, limits) and API keys (name, scopes, state)."""
        with container.uow() as uow:
            staff = list_users(uow)
            keys = list_api_keys(uow)
        return pages.render(
            "admin.html",
            session=session,
            title="Users and API keys",
            staff=staff,
            keys=keys,
            flash=FLASH.get(done),
        )

    @app.post("/admin/apikeys/{key_id}/revoke")
    def revoke(key_id: str, session: Admin) -> Response:
        with container.uow() as uow:
            revoke_api_key(uow, key_id, container.now(), actor=session.user.email)
        return RedirectResponse(f"{PREFIX}/admin?done=revoked", status_code=303)
