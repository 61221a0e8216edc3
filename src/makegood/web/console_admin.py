"""Console administration (admins only): the users and the API keys, never a secret; revoking a
key; disabling, enabling a user, changing their role or password (each ends the user's
sessions at once). Every change is a POST with the session's CSRF token, audited by its
service with the admin's e-mail as the actor."""

# No `from __future__ import annotations`: FastAPI must see the local Annotated aliases.

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Response
from fastapi.responses import RedirectResponse

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput
from makegood.services.user_admin import set_disabled, set_password, set_role
from makegood.services.users import (
    Permission,
    Role,
    SessionUser,
    list_api_keys,
    list_users,
    revoke_api_key,
)
from makegood.web.auth import Auth
from makegood.web.console_render import ConsolePages

PREFIX = "/console"
FLASH = {
    "revoked": "The API key was revoked; it no longer opens the API.",
    "disabled": "The user was disabled: their sessions ended and they cannot sign in.",
    "enabled": "The user was enabled: they can sign in again.",
    "role": "The role was changed; the user's sessions ended.",
    "password": "The password was set; the user's sessions ended.",
}


def _not_yourself(session: SessionUser, user_id: str, what: str) -> None:
    # One click must not lock the last admin out: another admin, or the CLI, does it.
    if session.user.id == user_id:
        raise InvalidInput(
            f"you cannot {what} your own account here; another admin or "
            "`makegood user` at the server can"
        )


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
            roles=[r.value for r in Role],
            flash=FLASH.get(done),
        )

    @app.post("/admin/apikeys/{key_id}/revoke")
    def revoke(key_id: str, session: Admin) -> Response:
        with container.uow() as uow:
            revoke_api_key(uow, key_id, container.now(), actor=session.user.email)
            uow.commit()
        return RedirectResponse(f"{PREFIX}/admin?done=revoked", status_code=303)

    @app.post("/admin/users/{user_id}/disable")
    def disable(user_id: str, session: Admin) -> Response:
        _not_yourself(session, user_id, "disable")
        with container.uow() as uow:
            set_disabled(uow, user_id, True, container.now(), actor=session.user.email)
            uow.commit()
        return RedirectResponse(f"{PREFIX}/admin?done=disabled", status_code=303)

    @app.post("/admin/users/{user_id}/enable")
    def enable(user_id: str, session: Admin) -> Response:
        with container.uow() as uow:
            set_disabled(uow, user_id, False, container.now(), actor=session.user.email)
            uow.commit()
        return RedirectResponse(f"{PREFIX}/admin?done=enabled", status_code=303)

    @app.post("/admin/users/{user_id}/role")
    def change_role(
        user_id: str, session: Admin, role: Annotated[str, Form(max_length=16)] = ""
    ) -> Response:
        _not_yourself(session, user_id, "change the role of")
        with container.uow() as uow:
            set_role(uow, user_id, role, container.now(), actor=session.user.email)
            uow.commit()
        return RedirectResponse(f"{PREFIX}/admin?done=role", status_code=303)

    @app.post("/admin/users/{user_id}/password")
    def change_password(
        user_id: str, session: Admin, password: Annotated[str, Form(max_length=1000)] = ""
    ) -> Response:
        with container.uow() as uow:
            set_password(uow, user_id, password, container.now(), actor=session.user.email)
            uow.commit()
        return RedirectResponse(f"{PREFIX}/admin?done=password", status_code=303)
