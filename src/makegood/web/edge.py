"""What every request passes before a route sees it: a size limit on its body, and no control
characters in its path, query or fields.

One ASGI middleware around the whole app (claim pages, genuine, webhooks, console and API), so
no route can forget it:

- A body larger than the limit is refused with 413: at once when Content-Length says so, else
  while it streams (chunked bodies are counted as they arrive, never buffered beyond the limit).
  MAKEGOOD_MAX_BODY_BYTES is the limit (default 1 MiB); /webhooks/ has its own,
  MAKEGOOD_MAX_WEBHOOK_BODY_BYTES (default 10 MiB: providers post events in batches).
- Control characters (C0, DEL, C1) in the path answer 404 (no id holds one); in the query
  string or a form or JSON field, 422 (the multi-line `policy` field may hold tabs and line
  breaks). PostgreSQL text cannot hold NUL, and no name, title,
  address or id of ours needs a control character.
- multipart/form-data is refused (415): every form of ours is urlencoded, and an unparsed
  multipart body would slip its fields past the check.

The body is checked as the route reads it, not before: routes that authenticate (API keys, the
console session, webhook signatures) do so before reading a byte of it (see auth.py). A refusal
while reading is raised as an HTTPException, which each sub-application renders in its own way
(JSON for the API, a page for the console).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# C0 controls, DEL and C1 controls.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# The same but tab, line feed and carriage return, for the few fields that are multi-line
# text: the console's policy box holds a TOML or JSON document (docs/policies.md).
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MULTILINE_FIELDS = frozenset({"policy"})
WEBHOOK_PREFIX = "/webhooks/"
# The API's `error` field for these statuses, here and in the API's own handler (api_errors).
HTTP_KINDS = {404: "not_found", 413: "too_large", 415: "unsupported", 422: "invalid_input"}


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class ControlCharacter(HTTPException):
    def __init__(self, where: str) -> None:
        super().__init__(422, f"{where}: control characters (such as NUL) are not accepted")


def control_field(pairs: Iterable[tuple[str, object]]) -> str | None:
    """The name of the first field whose name or text holds a control character."""
    stack: list[tuple[str, object]] = list(pairs)
    while stack:
        name, value = stack.pop()
        if _CONTROL.search(name):
            return "field name"
        control = _CONTROL_IN_TEXT if name in MULTILINE_FIELDS else _CONTROL
        if isinstance(value, str) and control.search(value):
            return name
        if isinstance(value, dict):
            stack.extend((f"{name}.{k}" if name else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{name}[{i}]", v) for i, v in enumerate(value))
    return None


def _urlencoded(text: str) -> list[tuple[str, object]]:
    return list(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"))


def _body_field(kind: str, body: bytes) -> str | None:
    """The first field of a form or JSON body holding a control character (None: none, or a
    body the route's own parser will refuse)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if kind == "application/x-www-form-urlencoded":
        return control_field(_urlencoded(text))
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return control_field([("", document)] if not isinstance(document, dict) else document.items())


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            text: str = value.decode("latin-1")
            return text.split(";", 1)[0].strip().lower()
    return ""


def _checked_as(kind: str) -> str | None:
    """How a body of this content type is read by our routes: as a form, as JSON (FastAPI reads
    a body without a content type as JSON too), or not parsed at all."""
    if kind == "application/x-www-form-urlencoded":
        return kind
    if not kind or kind == "application/json" or kind.endswith("+json"):
        return "json"
    return None


class RequestEdge:
    """The middleware; `max_body_bytes` for every path, `max_webhook_body_bytes` for /webhooks/."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_webhook_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_webhook_body_bytes = max_webhook_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        webhook = path.startswith(WEBHOOK_PREFIX)
        limit = self.max_webhook_body_bytes if webhook else self.max_body_bytes
        refusal = self._refusal(scope, path, limit)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        # Webhook bodies are signed and read by their own parser: counted, never inspected.
        kind = None if webhook else _checked_as(_content_type(scope))
        await self.app(scope, self._counting(receive, limit, kind), send)

    def _refusal(self, scope: Scope, path: str, limit: int) -> Response | None:
        """An answer before any body is read, or None to go on."""
        if _CONTROL.search(path):
            return _answer(path, 404, "not found")
        query = scope.get("query_string", b"").decode("latin-1")
        field = control_field(_urlencoded(query)) if query else None
        if field is not None or _CONTROL.search(query):
            return _answer(path, 422, ControlCharacter(f"query {field or ''}".strip()).detail)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    return _answer(path, 400, "Content-Length is not a number")
                if int(value) > limit:
                    return _answer(path, 413, BodyTooLarge(limit).detail)
        if not path.startswith(WEBHOOK_PREFIX) and _content_type(scope) == "multipart/form-data":
            return _answer(path, 415, "send forms as application/x-www-form-urlencoded")
        return None

    @staticmethod
    def _counting(receive: Receive, limit: int, kind: str | None) -> Receive:
        """`receive` that refuses the body past `limit` bytes and, for forms and JSON, checks
        the whole body's fields when its last chunk arrives."""
        received = 0
        chunks: list[bytes] = []

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise BodyTooLarge(limit)
            if kind is not None:
                chunks.append(chunk)
                if not message.get("more_body", False):
                    field = _body_field(kind, b"".join(chunks))
                    chunks.clear()
                    if field is not None:
                        raise ControlCharacter(field or "body")
            return message

        return counted


def _answer(path: str, status: int, detail: str) -> Response:
    # The API speaks JSON in its own error shape; every other caller gets one line of text.
    if path.startswith("/api/"):
        kind = HTTP_KINDS.get(status, "bad_request")
        return JSONResponse({"error": kind, "detail": detail}, status)
    return PlainTextResponse(detail, status)
