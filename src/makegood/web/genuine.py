"""The public "is this message genuine?" page, rate-limited per client IP.

Rate limit: per client address (`makegood.web.ratelimit`, GENUINE_CHECKS_PER_MINUTE in any
minute): every check spends one, whatever its answer; in the store MAKEGOOD_RATE_LIMIT_STORAGE
names (lets checks through when that store does not answer: see web/ratelimit.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from makegood.bootstrap import Container
from makegood.services.genuine import check_pasted
from makegood.web.pages import Pages
from makegood.web.ratelimit import RateLimit, client_address


def genuine_router(container: Container, pages: Pages, limiter: RateLimit) -> APIRouter:
    router = APIRouter()

    @router.get("/genuine")
    def genuine_form(request: Request) -> Response:
        """The form; changes nothing."""
        language = pages.language_for(None, request.headers.get("accept-language"))
        return pages.render("genuine.html", status=200, language=language, verdict=None, address="")

    @router.post("/genuine")
    def genuine_check(request: Request, code: Annotated[str, Form(max_length=4096)]) -> Response:
        """Says whether the pasted link or code is a real, open offer, or a link that does not
        point to our address; 429 past the limit."""
        language = pages.language_for(None, request.headers.get("accept-language"))
        client = client_address(request)
        if not limiter.hit(client):
            response = pages.render(
                "genuine.html", status=429, language=language, verdict="limited", address=""
            )
            response.headers["Retry-After"] = str(limiter.retry_after(client))
            return response
        public_url = container.settings.public_url
        with container.uow() as uow:
            verdict = check_pasted(uow, code, public_url, container.now())
        return pages.render(
            "genuine.html",
            status=200,
            language=language,
            verdict=verdict.value,
            address=container.settings.public_base,
        )

    return router
