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


def install_error_pages(app: FastAPI, container: Container, pages: Pages) -> None:
    """Register handlers that answer domain errors (and unknown paths) with clear pages."""

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
        # Unknown and revoked links must not reveal whose offer it was.
        view = offer_context(request) if status in (200, 410) else None
        language = pages.language_for(view, request.headers.get("accept-language"))
        return pages.render(template, status=status, language=language, view=view)

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            language = pages.language_for(None, request.headers.get("accept-language"))
            return pages.render("not_found.html", status=404, language=language)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(errors.OfferUnavailable, claim_unavailable)
    app.add_exception_handler(CsrfRejected, claim_unavailable)
    app.add_exception_handler(StarletteHTTPException, http_error)
