"""`/credits`, "where is my credit?": a subscriber asks by e-mail address, without an account.

No enumeration. POST answers the same page whether or not the address belongs to a
subscriber, and does the same work either way: it queues the request (one INSERT, one commit;
services.status_requests) and the worker decides, out of band, whether anything is sent. Rate
limits: per client address (MAKEGOOD_STATUS_REQUESTS_PER_MINUTE, 429 past it) and per e-mail
address (MAKEGOOD_STATUS_EMAILS_PER_HOUR; past it the same page answers and nothing is
queued, which says nothing about the address either). The limits are web/ratelimit.py's, in
the store MAKEGOOD_RATE_LIMIT_STORAGE names, keyed by an HMAC, never the address; when that
store does not answer, POST answers 503 and queues nothing (fails closed).

CSRF: as on the claim page, a nonce cookie (path /credits) and an HMAC of it in the form.
"""

# No `from __future__ import annotations`: FastAPI must see the Form annotations.

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from makegood.bootstrap import Container
from makegood.services.status_requests import request_status
from makegood.web import csrf
from makegood.web.pages import Pages
from makegood.web.ratelimit import WebLimits, client_address

COOKIE = "mg_credits_nonce"
PATH = "/credits"
FORM_SCOPE = "credits-form"  # what the CSRF HMAC binds the nonce to (the claim form: a link)


def _plausible(email: str) -> bool:
    local, at, domain = email.strip().rpartition("@")
    return bool(at and local and domain) and len(email) <= 320


def credits_router(container: Container, pages: Pages, limits: WebLimits) -> APIRouter:
    settings = container.settings
    router = APIRouter()
    secure_cookie = settings.public_url.lower().startswith("https://")
    clients = limits.status_clients
    addresses = limits.status_emails

    def page(request: Request, status: int, notice: str | None) -> Response:
        nonce = request.cookies.get(COOKIE)
        if not csrf.usable_nonce(nonce):
            nonce = csrf.new_nonce()
        assert nonce is not None
        language = pages.language_for(None, request.headers.get("accept-language"))
        response = pages.render(
            "credits.html",
            status=status,
            language=language,
            notice=notice,
            csrf_token=csrf.csrf_token(settings.secret_key, nonce, FORM_SCOPE),
        )
        response.set_cookie(
            COOKIE, nonce, path=PATH, httponly=True, samesite="lax", secure=secure_cookie
        )
        return response

    @router.get(PATH)
    def credits_form(request: Request) -> Response:
        """The form; changes nothing."""
        return page(request, 200, None)

    @router.post(PATH)
    def credits_request(
        request: Request,
        email: Annotated[str, Form(max_length=1024)] = "",
        csrf_token: Annotated[str, Form(max_length=256)] = "",
    ) -> Response:
        """Always the same answer for a well-formed request; see the module doc."""
        client = client_address(request)
        if clients is not None and not clients.hit(client):
            language = pages.language_for(None, request.headers.get("accept-language"))
            limited = pages.render("limited.html", status=429, language=language)
            limited.headers["Retry-After"] = str(clients.retry_after(client))
            return limited
        try:
            csrf.check_csrf(
                settings.secret_key, request.cookies.get(COOKIE), FORM_SCOPE, csrf_token
            )
        except csrf.CsrfRejected:
            return page(request, 403, "again")
        if not _plausible(email):
            return page(request, 422, "invalid")
        if addresses is None or addresses.hit(email.strip().lower()):
            with container.uow() as uow:
                request_status(uow, email, container.now())
                uow.commit()
        return page(request, 200, "sent")

    return router
