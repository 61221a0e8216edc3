"""The public pages' and the console's rate limits (on makegood.rate_limits, so shared by
every process when MAKEGOOD_RATE_LIMIT_STORAGE names a Redis).

Each limit allows `amount` hits per client address (or hashed e-mail address) in any window of
`seconds`. Two ways to use one: `hit(key)` spends one per request and says whether there was room
(the genuine check, console login, /credits); or spend only on failures and ask `limited(key)`,
which spends nothing, before doing any work (the claim pages: a valid link is never slowed).

When the store does not answer (docs/security.md, "Rate limits"): the claim pages and the
genuine check let requests through (they only slow the guessing of 256-bit tokens, and a claim
must not fail because Redis is down); /credits (mail to whatever address is typed) and the
console login (password guessing) refuse with 503 until it answers again.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from makegood.bootstrap import Container
from makegood.rate_limits import RateLimit, RateLimitUnavailable

__all__ = [
    "RateLimit",
    "RateLimitUnavailable",
    "RateLimited",
    "WebLimits",
    "client_address",
    "web_limits",
]

MINUTE = 60
HOUR = 3600
# What the pages' 503 tells a client to wait when the store did not answer.
UNAVAILABLE_RETRY_SECONDS = 30
GENUINE_CHECKS_PER_MINUTE = 10
LOGINS_PER_MINUTE = 10


def client_address(request: Request) -> str:
    """The key a client is limited by: its address (`request.client.host`). Behind a proxy,
    uvicorn's --proxy-headers/--forwarded-allow-ips put the X-Forwarded-For address there."""
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimited(Exception):
    """A client spent its allowance; it may try again in `retry_after` seconds (at least 1)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class WebLimits:
    """The limits of one web app; None where the setting turned a limit off (0)."""

    claim_failures: RateLimit | None
    genuine: RateLimit
    status_clients: RateLimit | None
    status_emails: RateLimit | None
    login: RateLimit


def web_limits(container: Container) -> WebLimits:
    """The web app's limits from the settings, counted in the container's store."""
    settings = container.settings
    storage = container.rate_limit_storage
    secret = settings.secret_key

    def limit(name: str, amount: int, seconds: int, *, fail_open: bool) -> RateLimit | None:
        if amount <= 0:
            return None
        return RateLimit(storage, name, amount, seconds, secret=secret, fail_open=fail_open)

    genuine = limit("genuine", GENUINE_CHECKS_PER_MINUTE, MINUTE, fail_open=True)
    login = limit("console-login", LOGINS_PER_MINUTE, MINUTE, fail_open=False)
    assert genuine is not None
    assert login is not None
    return WebLimits(
        claim_failures=limit(
            "claim-failures", settings.claim_failures_per_minute, MINUTE, fail_open=True
        ),
        genuine=genuine,
        status_clients=limit(
            "status-clients", settings.status_requests_per_minute, MINUTE, fail_open=False
        ),
        status_emails=limit(
            "status-emails", settings.status_emails_per_hour, HOUR, fail_open=False
        ),
        login=login,
    )
