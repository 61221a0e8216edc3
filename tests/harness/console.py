"""Signing in to the console in a test client, and reading a form's CSRF token."""

from __future__ import annotations

import re
import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput
from makegood.services.users import authenticate
from makegood.web.auth import SESSION_COOKIE
from tests.factories.staff import PASSWORD, add_staff, email_for, session_cookie

CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def sign_in(client: TestClient, container: Container, role: str, **limits: int) -> None:
    try:
        user = add_staff(container, role, limits or None)
    except InvalidInput:  # added earlier in this test
        with container.uow() as uow:
            user = authenticate(uow, email_for(role), PASSWORD)  # type: ignore[assignment]
        assert user is not None
    raw = session_cookie(container, user)[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, raw, path="/console")


def form_token(client: TestClient, path: str) -> str:
    match = CSRF_FIELD.search(client.get(path).text)
    assert match
    return match.group(1)
