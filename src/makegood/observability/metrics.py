"""The `/metrics` endpoint: request latencies, claims, and offers and messages by state.

Protected by a bearer token (MAKEGOOD_METRICS_TOKEN); without one the route answers 404, so an
unconfigured deployment does not expose it. Labels never carry a request path as sent (claim
links carry their token in the path): requests are labelled by their route template.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from makegood.bootstrap import Container
from makegood.observability.database_counts import CachedCounts
from makegood.observability.exposition import Counter, Histogram, gauge_lines

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CLAIM_ROUTE = "/claim/{token}"


@dataclass
class WebMetrics:
    """The in-process instruments of one web app."""

    requests: Histogram = field(
        default_factory=lambda: Histogram(
            "makegood_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status class.",
        )
    )
    claims: Counter = field(
        default_factory=lambda: Counter(
            "makegood_claims_total",
            "POST /claim requests answered, by outcome (claimed, or the HTTP status).",
        )
    )
    claim_latency: Histogram = field(
        default_factory=lambda: Histogram(
            "makegood_claim_duration_seconds", "Time to answer POST /claim/{token}."
        )
    )

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        status_class = f"{status // 100}xx"
        self.requests.observe(
            seconds, (("method", method), ("route", route), ("status", status_class))
        )
        if method == "POST" and route == CLAIM_ROUTE:
            # A claim answers 303 to the confirmation page; anything else did not credit.
            outcome = "claimed" if status == 303 else str(status)
            self.claims.inc((("outcome", outcome),))
            self.claim_latency.observe(seconds)


def route_label(scope: Scope) -> str:
    """The matched route's template (`/claim/{token}`), never the path as sent."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    return f"{scope.get('root_path', '')}{path}"


class RequestTimer:
    """ASGI middleware timing every HTTP request into `WebMetrics`."""

    def __init__(self, app: ASGIApp, metrics: WebMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.record(
                scope["method"], route_label(scope), status, time.perf_counter() - started
            )


def authorised(request: Request, token: str) -> bool:
    """A constant-time comparison of the bearer token."""
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def metrics_router(container: Container, metrics: WebMetrics) -> APIRouter:
    """GET /metrics in the Prometheus text format."""
    router = APIRouter()
    settings = container.settings
    counts = CachedCounts(container.engine, settings.metrics_cache_seconds)

    @router.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """The metrics, for a scraper holding MAKEGOOD_METRICS_TOKEN; 404 when none is set."""
        token = settings.metrics_token
        if not token:
            return Response("Not Found", status_code=404, media_type="text/plain")
        if not authorised(request, token):
            return Response(
                "Unauthorized",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": "Bearer"},
            )
        lines = metrics.requests.render() + metrics.claims.render()
        lines += metrics.claim_latency.render()
        try:
            db = counts.get()
        except sa.exc.DBAPIError:
            lines += gauge_lines("makegood_database_up", "1 if the database answered.", [((), 0)])
        else:
            lines += gauge_lines("makegood_database_up", "1 if the database answered.", [((), 1)])
            lines += gauge_lines("makegood_offers", "Offers by state.", db.offers)
            lines += gauge_lines("makegood_messages", "Messages by channel and state.", db.messages)
        return Response("\n".join(lines) + "\n", media_type=CONTENT_TYPE)

    return router


def install_metrics(app: FastAPI, container: Container) -> None:
    """Time every request and serve GET /metrics on `app`."""
    metrics = WebMetrics()
    app.state.metrics = metrics
    app.add_middleware(RequestTimer, metrics=metrics)
    app.include_router(metrics_router(container, metrics))
