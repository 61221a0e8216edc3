"""The subscriber-facing web app: claim pages (GET shows, POST applies) and a health check.

`create_app(container)` builds everything from the container; nothing connects at import time or
when the app is created, only when a request needs the database.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from makegood.bootstrap import Container
from makegood.domain.offers import check_claimable
from makegood.domain.tokens import hash_token
from makegood.observability.metrics import install_metrics
from makegood.services.claims import claim_with_link, view_offer
from makegood.store.engine import ping
from makegood.web import csrf
from makegood.web.api import create_api
from makegood.web.appeal_page import appeal_router
from makegood.web.console import create_console
from makegood.web.credits_page import credits_router
from makegood.web.csrf import COOKIE_PATH, NONCE_COOKIE
from makegood.web.edge import RequestEdge
from makegood.web.errors import install_error_pages
from makegood.web.genuine import genuine_router
from makegood.web.pages import Pages
from makegood.web.ratelimit import RateLimit, RateLimited, client_address, web_limits
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


def app_from_environment() -> FastAPI:
    """The app over a container built from the MAKEGOOD_ settings (`serve --workers N` calls
    this once in each worker process)."""
    from makegood.bootstrap import bootstrap

    return create_app(bootstrap())


def create_app(container: Container) -> FastAPI:
    """The web app over `container` (settings, database, clock).

    `app.state.claim_limiter` is the claim pages' failed-lookup limit (None when
    MAKEGOOD_CLAIM_FAILURES_PER_MINUTE is 0).
    """
    settings = container.settings
    pages = Pages(settings)
    app = FastAPI(
        title=f"{settings.service_name} credits",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.container = container
    console = create_console(container)
    # Inside SecurityHeaders, so its refusals carry the same headers as every page.
    app.add_middleware(
        RequestEdge,
        max_body_bytes=settings.max_body_bytes,
        max_webhook_body_bytes=settings.max_webhook_body_bytes,
    )
    app.add_middleware(
        SecurityHeaders, headers=security_headers(pages.style_hash, console.state.style_hash)
    )
    limits = web_limits(container)
    claim_limiter = limits.claim_failures
    app.state.claim_limiter = claim_limiter
    install_error_pages(app, container, pages, claim_limiter)
    install_metrics(app, container)  # GET /metrics (MAKEGOOD_METRICS_TOKEN) and timings
    app.include_router(genuine_router(container, pages, limits.genuine))
    app.include_router(credits_router(container, pages, limits))  # GET/POST /credits
    app.include_router(webhooks_router(container))  # POST /webhooks/email (notify)
    # Separate applications: the API has its own OpenAPI document and JSON errors; the
    # console its own login redirects and error pages. The claim pages stay out of both.
    app.mount("/api/v1", create_api(container))
    app.mount("/console", console)

    @app.get("/healthz")
    def healthz() -> Response:
        """Up, and the database answers."""
        try:
            ping(container.engine)
        except sa.exc.DBAPIError:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    claim_routes(app, container, pages, claim_limiter)
    # GET/POST /appeal/{token}: unknown links spend the claim pages' failed-lookup tokens.
    app.include_router(appeal_router(container, pages, claim_limiter, small_form))
    return app


# The claim form carries one short field; anything much larger is not our form.
MAX_FORM_BYTES = 4096


async def small_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body of at most MAX_FORM_BYTES as a dict (the
    first value of each field); 413 when larger, 400 when it does not decode. Any other body
    is no form of ours: empty, so the CSRF check refuses it with its own page."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "form too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), max_num_fields=8, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "malformed form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def claim_routes(
    app: FastAPI, container: Container, pages: Pages, claim_limiter: RateLimit | None
) -> None:
    """GET /claim/{token}, its POST and /done, refused (429) to a client out of failed lookups."""
    settings = container.settings
    secure_cookie = settings.public_url.lower().startswith("https://")

    def refuse_if_limited(request: Request) -> None:
        """429 before any database work for a client out of failed lookups (errors.py spends
        them). Spends nothing: a valid link is never slowed."""
        if claim_limiter is not None:
            client = client_address(request)
            if claim_limiter.limited(client):
                raise RateLimited(claim_limiter.retry_after(client))

    @app.get("/claim/{token}")
    def show_offer(token: str, request: Request) -> Response:
        """Shows the offer and the confirm button; changes nothing (mail scanners fetch links)."""
        refuse_if_limited(request)
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
    async def confirm_claim(request: Request) -> Response:
        """Applies the credit once (CSRF-checked), then sends the browser to the confirmation.

        The busiest route after a launch, so it takes nothing but the request (no parameters
        to solve), reads its one-field form itself (no multipart machinery) and hands only the
        database work to the thread pool.
        """
        token = str(request.path_params["token"])
        refuse_if_limited(request)
        form = await small_form(request)
        nonce = request.cookies.get(NONCE_COOKIE)
        csrf.check_csrf(settings.secret_key, nonce, hash_token(token), form.get("csrf_token"))
        await run_in_threadpool(claim_with_link, container.engine, token, container.now(), "web")
        return RedirectResponse(f"/claim/{quote(token, safe='')}/done", status_code=303)

    @app.get("/claim/{token}/done")
    def claim_done(token: str, request: Request) -> Response:
        """The confirmation: how much, and on which statement it will appear."""
        refuse_if_limited(request)
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
