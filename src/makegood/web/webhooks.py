"""Provider webhooks: POST /webhooks/email records delivery events (bounces, complaints...).

Signed with HMAC-SHA256 (see notify/feedback.py and docs/notifications.md); an unsigned,
wrongly signed or stale request gets 401 and changes nothing; stale or unsigned ones are refused
before their body is read, and a body over MAKEGOOD_MAX_WEBHOOK_BODY_BYTES gets 413. Without
MAKEGOOD_EMAIL_WEBHOOK_SECRET the endpoint answers 503: it never accepts unsigned events.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput
from makegood.notify.feedback import (
    BadSignature,
    check_signature_headers,
    verify_signature,
)
from makegood.services.delivery_feedback import record_webhook

TIMESTAMP_HEADER = "X-Makegood-Timestamp"
SIGNATURE_HEADER = "X-Makegood-Signature"


def webhooks_router(container: Container) -> APIRouter:
    """The webhook routes over `container`."""
    router = APIRouter()

    @router.post("/webhooks/email")
    async def email_events(request: Request) -> JSONResponse:
        settings = container.settings
        if not settings.email_webhook_secret:
            return JSONResponse({"error": "webhook not configured"}, status_code=503)
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        given = request.headers.get(SIGNATURE_HEADER)
        try:
            # The headers first: a request they refuse is answered without reading its body.
            check_signature_headers(
                timestamp=timestamp,
                given=given,
                now=container.now(),
                tolerance_seconds=settings.webhook_tolerance_seconds,
            )
            # Bounded by MAKEGOOD_MAX_WEBHOOK_BODY_BYTES (413 past it, web/edge.py).
            body = await request.body()
            verify_signature(
                settings.email_webhook_secret,
                timestamp=timestamp,
                body=body,
                given=given,
                now=container.now(),
                tolerance_seconds=settings.webhook_tolerance_seconds,
            )
        except BadSignature as exc:
            return JSONResponse({"error": f"bad signature: {exc}"}, status_code=401)
        try:
            report = await run_in_threadpool(record_webhook, container, body)
        except InvalidInput as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(
            {"read": report.read, "recorded": report.recorded, "ignored": report.ignored}
        )

    return router
