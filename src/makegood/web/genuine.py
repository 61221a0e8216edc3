"""The public "is this message genuine?" page, rate-limited per client IP.

Rate limit: a token bucket per client address, held in this process's memory: each address may
check `capacity` times at once, and gains `refill_per_minute` checks a minute back up to that.
It resets when the server restarts and is per process (run one worker, or put a shared limiter
in front). At most `max_clients` addresses are remembered; the oldest is forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from makegood.bootstrap import Container
from makegood.services.genuine import is_open_offer
from makegood.web.pages import Pages


class TokenBucket:
    """Per-key token buckets; `allow(key)` spends one token if there is one."""

    def __init__(
        self,
        capacity: int = 10,
        refill_per_minute: float = 10.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.rate = refill_per_minute / 60.0
        self.max_clients = max_clients
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens, last = self.buckets.pop(key, (float(self.capacity), now))
        tokens = min(float(self.capacity), tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self.buckets[key] = (tokens, now)
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)
        return allowed


def genuine_router(container: Container, pages: Pages, limiter: TokenBucket) -> APIRouter:
    router = APIRouter()

    @router.get("/genuine")
    def genuine_form(request: Request) -> Response:
        """The form; changes nothing."""
        language = pages.language_for(None, request.headers.get("accept-language"))
        return pages.render("genuine.html", status=200, language=language, verdict=None)

    @router.post("/genuine")
    def genuine_check(request: Request, code: Annotated[str, Form(max_length=4096)]) -> Response:
        """Says whether the pasted link or code is a real, open offer; 429 past the limit."""
        language = pages.language_for(None, request.headers.get("accept-language"))
        client = request.client.host if request.client else "unknown"
        if not limiter.allow(client):
            response = pages.render(
                "genuine.html", status=429, language=language, verdict="limited"
            )
            response.headers["Retry-After"] = "60"
            return response
        with container.uow() as uow:
            real = is_open_offer(uow, code, container.now())
        verdict = "real" if real else "unknown"
        return pages.render("genuine.html", status=200, language=language, verdict=verdict)

    return router
