"""The `/metrics` endpoint: request latencies, claims, and offers and messages by state.

Instruments and exposition are `prometheus_client`'s. Protected by a bearer token
(MAKEGOOD_METRICS_TOKEN); without one the route answers 404, so an unconfigured deployment does
not expose it. Labels never carry a request path as sent (claim links carry their token in the
path): requests are labelled by their route template.

One process: the app's own registry. Several (`serve --workers N`, or PROMETHEUS_MULTIPROC_DIR
set): each process writes its figures to files in PROMETHEUS_MULTIPROC_DIR and any process
answering a scrape adds up all of them (prometheus_client's multiprocess mode), so a scrape
sees the whole server's figures whichever worker answers.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from makegood.bootstrap import Container
from makegood.observability.database_counts import CachedCounts, Samples

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
CLAIM_ROUTE = "/claim/{token}"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Seconds; the claim target is p99 <= 50 ms, so the buckets are dense below 0.1 s.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

# `*_created` series (a timestamp per counter) are not part of this endpoint's families, and
# multiprocess mode cannot report them anyway.
disable_created_metrics()


def multiprocess_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR when set (multiprocess mode), else None."""
    return os.environ.get(MULTIPROCESS_DIR) or None


class WebMetrics:
    """The instruments of one web app, in `registry` (one process) or in the shared directory
    (multiprocess mode, where `registry` holds nothing of theirs)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Histogram(
            "makegood_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status class.",
            ("method", "route", "status"),
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self.claims = Counter(
            "makegood_claims",
            "POST /claim requests answered, by outcome (claimed, or the HTTP status).",
            ("outcome",),
            registry=registry,
        )
        self.claim_latency = Histogram(
            "makegood_claim_duration_seconds",
            "Time to answer POST /claim/{token}.",
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        status_class = f"{status // 100}xx"
        self.requests.labels(method, route, status_class).observe(seconds)
        if method == "POST" and route == CLAIM_ROUTE:
            # A claim answers 303 to the confirmation page; anything else did not credit.
            outcome = "claimed" if status == 303 else str(status)
            self.claims.labels(outcome).inc()
            self.claim_latency.observe(seconds)


class DatabaseCollector(Collector):
    """Offers and messages by state, and whether the database answered, read at scrape time."""

    def __init__(self, counts: CachedCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("makegood_database_up", "1 if the database answered.")
        try:
            db = self.counts.get()
        except sa.exc.DBAPIError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _gauge("makegood_offers", "Offers by state.", ["state"], db.offers)
        yield _gauge(
            "makegood_messages", "Messages by channel and state.", ["channel", "state"], db.messages
        )


def _gauge(name: str, help_text: str, labels: list[str], samples: Samples) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


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


def metrics_router(
    container: Container, registry: CollectorRegistry, shared_dir: str | None
) -> APIRouter:
    """GET /metrics in the Prometheus text format."""
    router = APIRouter()
    settings = container.settings
    database = DatabaseCollector(CachedCounts(container.uow, settings.metrics_cache_seconds))
    if shared_dir is None:
        registry.register(database)

    def scrape() -> bytes:
        if shared_dir is None:
            return generate_latest(registry)
        # Every process's files, added up, read anew for each scrape (as the library asks).
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=shared_dir)
        merged.register(database)
        return generate_latest(merged)

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
        return Response(scrape(), media_type=CONTENT_TYPE)

    return router


def install_metrics(app: FastAPI, container: Container) -> None:
    """Time every request and serve GET /metrics on `app`."""
    shared_dir = multiprocess_dir()
    registry = CollectorRegistry()
    metrics = WebMetrics(registry)
    app.state.metrics = metrics
    app.add_middleware(RequestTimer, metrics=metrics)
    app.include_router(metrics_router(container, registry, shared_dir))
    if shared_dir is not None:
        _mark_dead_on_shutdown(app, shared_dir)


def _mark_dead_on_shutdown(app: FastAPI, shared_dir: str) -> None:
    """When this worker stops, tell the shared directory (its counts stay in the totals;
    only figures that belong to live processes are dropped)."""
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        async with serve(app_) as state:
            yield state
        multiprocess.mark_process_dead(os.getpid(), path=shared_dir)

    app.router.lifespan_context = lifespan
