"""The one place where domain errors become HTTP answers of the API (JSON `ErrorPublic`)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from makegood.domain import errors
from makegood.services.console_campaigns import SelfApproval
from makegood.services.support import GrantLimitExceeded
from makegood.web.auth import ApiUnauthorized, Forbidden
from makegood.web.edge import HTTP_KINDS

# Most specific first: the lookup walks each exception's MRO.
STATUS: dict[type[Exception], tuple[int, str]] = {
    ApiUnauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    SelfApproval: (403, "self_approval"),
    GrantLimitExceeded: (403, "over_grant_limit"),
    errors.OfferNotFound: (404, "not_found"),
    errors.OfferExpired: (410, "offer_expired"),
    errors.OfferRevoked: (410, "offer_withdrawn"),
    errors.OfferAlreadyClaimed: (409, "already_claimed"),
    errors.NotFound: (404, "not_found"),
    errors.InvalidInput: (422, "invalid_input"),
    errors.InvalidState: (409, "invalid_state"),
    errors.MakegoodError: (400, "failed"),
}


def status_for(exc: Exception) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500, "internal"


def install_api_errors(app: FastAPI) -> None:
    """Register JSON error handlers on the API application."""

    def domain_error(request: Request, exc: Exception) -> JSONResponse:
        status, kind = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": kind, "detail": str(exc)}, status, headers=headers)

    def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid_input", "detail": "; ".join(problems)}, 422)

    def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        # The same kinds web/edge.py answers with before a route runs.
        kind = HTTP_KINDS.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": kind, "detail": str(exc.detail)}, exc.status_code, headers=exc.headers
        )

    for kind in STATUS:
        app.add_exception_handler(kind, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
