"""The subscriber-facing web app: claim pages (GET shows, POST applies) and a health check.

`create_app(container)` builds everything from the container; nothing connects at import time or
when the app is created, only when a request needs the database.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import Cookie, FastAPI, Form, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from makegood.bootstrap import Container
from makegood.domain.offers import check_claimable
from makegood.domain.tokens import hash_token
from makegood.observability.metrics import install_metrics
from makegood.services.claims import claim_offer, view_offer
from makegood.web import csrf
from makegood.web.api import create_api
from makegood.web.console import create_console
from makegood.web.csrf import COOKIE_PATH, NONCE_COOKIE
from makegood.web.errors import install_error_pages
from makegood.web.genuine import TokenBucket, genuine_router
from makegood.web.pages import Pages
from makegood.web.webhooks import webhooks_router


class SecurityHeaders:
    """Adds the same protective headers to every response, error pages included."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_headers(*style_hashes: str) -> dict[str, str]:
    """Claim pages are personal: never cached, never indexed, never framed, no outside assets."""
    styles = " ".join(f"'{h}'" for h in style_hashes)
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {styles}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": csp,
    }


def create_app(container: Container) -> FastAPI:
    """The web app over `container` (settings, database, clock)."""
    settings = container.settings
    pages = Pages(settings)
    secure_cookie = settings.public_url.lower().startswith("https://")
    app = FastAPI(
        title=f"{settings.service_name} credits",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.container = container
    console = create_console(container)
    app.add_middleware(
        SecurityHeaders, headers=security_headers(pages.style_hash, console.state.style_hash)
    )
    install_error_pages(app, container, pages)
    install_metrics(app, container)  # GET /metrics (MAKEGOOD_METRICS_TOKEN) and timings
    app.include_router(genuine_router(container, pages, TokenBucket()))
    app.include_router(webhooks_router(container))  # POST /webhooks/email (notify)
    # Separate applications: the API has its own OpenAPI document and JSON errors; the
    # console its own login redirects and error pages. The claim pages stay out of both.
    app.mount("/api/v1", create_api(container))
    app.mount("/console", console)

    @app.get("/healthz")
    def healthz() -> Response:
        """Up, and the database answers."""
        try:
            with container.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/claim/{token}")
    def show_offer(token: str, request: Request) -> Response:
        """Shows the offer and the confirm button; changes nothing (mail scanners fetch links)."""
        now = container.now()
        with container.uow() as uow:
            view = view_offer(uow, token, now)
        request.state.offer_view = view
        check_claimable(view.state, view.expires_at, now)
        nonce = request.cookies.get(NONCE_COOKIE)
        if not csrf.usable_nonce(nonce):
            nonce = csrf.new_nonce()
        assert nonce is not None
        language = pages.language_for(view, None)
        response = pages.render(
            "offer.html",
            status=200,
            language=language,
            view=view,
            csrf_token=csrf.csrf_token(settings.secret_key, nonce, hash_token(token)),
        )
        response.set_cookie(
            NONCE_COOKIE,
            nonce,
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=secure_cookie,
        )
        return response

    @app.post("/claim/{token}")
    def confirm_claim(
        token: str,
        csrf_token: Annotated[str | None, Form()] = None,
        nonce: Annotated[str | None, Cookie(alias=NONCE_COOKIE)] = None,
    ) -> Response:
        """Applies the credit once (CSRF-checked), then sends the browser to the confirmation."""
        csrf.check_csrf(settings.secret_key, nonce, hash_token(token), csrf_token)
        with container.uow() as uow:
            claim_offer(uow, token, container.now(), via="web")
        return RedirectResponse(f"/claim/{quote(token, safe='')}/done", status_code=303)

    @app.get("/claim/{token}/done")
    def claim_done(token: str, request: Request) -> Response:
        """The confirmation: how much, and on which statement it will appear."""
        now = container.now()
        with container.uow() as uow:
            view = view_offer(uow, token, now)
        request.state.offer_view = view
        if not view.credited:
            check_claimable(view.state, view.expires_at, now)
            # Still open: nothing to confirm yet, so show the offer instead.
            return RedirectResponse(f"/claim/{quote(token, safe='')}", status_code=303)
        language = pages.language_for(view, None)
        return pages.render("done.html", status=200, language=language, view=view)

    return app
