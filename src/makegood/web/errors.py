"""The one place where reasons a claim cannot go ahead become HTTP status codes and pages."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import PlainTextResponse

from makegood.bootstrap import Container
from makegood.domain import errors
from makegood.services.claims import OfferView, view_offer
from makegood.web.csrf import CsrfRejected
from makegood.web.pages import Pages
from makegood.web.ratelimit import (
    UNAVAILABLE_RETRY_SECONDS,
    RateLimit,
    RateLimited,
    RateLimitUnavailable,
    client_address,
)

CLAIM_PREFIX = "/claim/"

# Exception -> (status, page). An already-applied credit is not a failure: 200, so a second
# click or a reload tells the subscriber the good news again. A withdrawn offer says so (410);
# an unknown or replaced link is 404 and reveals nothing.
PAGES: dict[type[Exception], tuple[int, str]] = {
    errors.OfferAlreadyClaimed: (200, "already.html"),
    errors.OfferExpired: (410, "expired.html"),
    errors.OfferRevoked: (410, "withdrawn.html"),
    errors.OfferNotFound: (404, "not_found.html"),
    CsrfRejected: (403, "forbidden.html"),
}


def _page_for(exc: Exception) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in PAGES:
            return PAGES[kind]
    return 404, "not_found.html"


def on_claim_path(request: Request) -> bool:
    """True for /claim/... (whatever prefix the server mounts the app under)."""
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.startswith(CLAIM_PREFIX)


def install_error_pages(
    app: FastAPI, container: Container, pages: Pages, claim_limiter: RateLimit | None = None
) -> None:
    """Register handlers that answer domain errors (and unknown paths) with clear pages.

    With `claim_limiter`, every 404 (unknown or replaced link) and 403 (CSRF refused) a claim
    page answers spends one of the client's tokens; the routes refuse a client with none left
    (`RateLimited`, answered here with 429 and Retry-After).
    """

    def note_failure(request: Request, status: int) -> None:
        if claim_limiter is not None and status in (403, 404) and on_claim_path(request):
            claim_limiter.hit(client_address(request))

    def too_many_failures(request: Request, retry_after: int) -> Response:
        # Nothing about the link or its account: no lookup is made while a client is limited.
        language = pages.language_for(None, request.headers.get("accept-language"))
        response = pages.render("limited.html", status=429, language=language)
        response.headers["Retry-After"] = str(retry_after)
        return response

    def offer_context(request: Request) -> OfferView | None:
        # A route that already read the offer leaves it here; otherwise read it (read-only).
        view: OfferView | None = getattr(request.state, "offer_view", None)
        token = request.path_params.get("token")
        if view is None and isinstance(token, str):
            try:
                with container.uow() as uow:
                    view = view_offer(uow, token, container.now())
            except errors.OfferNotFound:
                view = None
        return view

    def claim_unavailable(request: Request, exc: Exception) -> Response:
        status, template = _page_for(exc)
        note_failure(request, status)
        # Unknown and revoked links must not reveal whose offer it was.
        view = offer_context(request) if status in (200, 410) else None
        language = pages.language_for(view, request.headers.get("accept-language"))
        return pages.render(template, status=status, language=language, view=view)

    def rate_limited(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimited)
        return too_many_failures(request, exc.retry_after)

    def limits_unavailable(request: Request, exc: Exception) -> Response:
        # A limit that fails closed could not ask its store: refuse for now, say when to retry.
        language = pages.language_for(None, request.headers.get("accept-language"))
        response = pages.render("limited.html", status=503, language=language, unavailable=True)
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            # (no claim route matched: not a lookup, so it spends nothing, but a limited
            # client is answered the same under every /claim path)
            if claim_limiter is not None and on_claim_path(request):
                client = client_address(request)
                if claim_limiter.limited(client):
                    return too_many_failures(request, claim_limiter.retry_after(client))
            language = pages.language_for(None, request.headers.get("accept-language"))
            return pages.render("not_found.html", status=404, language=language)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(errors.OfferUnavailable, claim_unavailable)
    app.add_exception_handler(CsrfRejected, claim_unavailable)
    app.add_exception_handler(RateLimited, rate_limited)
    app.add_exception_handler(RateLimitUnavailable, limits_unavailable)
    app.add_exception_handler(StarletteHTTPException, http_error)
