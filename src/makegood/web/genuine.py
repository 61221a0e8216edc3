"""The public "is this message genuine?" page, rate-limited per client IP.

Rate limit: a token bucket per client address (`makegood.web.ratelimit.TokenBucket`, which this
module still exports): every check spends a token, whatever its answer. Per process, in memory.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from makegood.bootstrap import Container
from makegood.services.genuine import check_pasted
from makegood.web.pages import Pages
from makegood.web.ratelimit import TokenBucket, client_address

__all__ = ["TokenBucket", "genuine_router"]


def genuine_router(container: Container, pages: Pages, limiter: TokenBucket) -> APIRouter:
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
        if not limiter.allow(client):
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
