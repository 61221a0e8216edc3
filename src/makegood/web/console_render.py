"""Rendering of console pages: Jinja2 templates in templates/console, one inlined stylesheet
(allowed by its hash in the Content-Security-Policy), no JavaScript, no outside assets."""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from makegood.domain.money import format_major
from makegood.services.users import Permission, SessionUser
from makegood.settings import Settings
from makegood.web.auth import console_csrf_token
from makegood.web.pages import TEMPLATES


def when(value: datetime | date | None) -> str:
    """UTC instants as `2026-03-22 20:14 UTC`; the console is for staff across time zones."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def path_segment(value: str) -> str:
    """An id as one segment of a console URL: `/`, `?`, `#`, `%` and the rest percent-encoded
    (account ids come from the operator's data and may hold any of them)."""
    return quote(str(value), safe="")


def money(minor: int | None, currency: str | None) -> str:
    if minor is None or currency is None:
        return "—"
    return f"{format_major(minor, currency)} {currency}"


class ConsolePages:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES / "console"),
            autoescape=select_autoescape(["html", "svg"]),
            undefined=StrictUndefined,
            auto_reload=False,
        )
        self.env.filters["when"] = when
        self.env.filters["segment"] = path_segment
        self.env.globals["money"] = money
        self.css = (TEMPLATES / "console" / "console.css").read_text(encoding="utf-8")
        digest = hashlib.sha256(self.css.encode("utf-8")).digest()
        self.style_hash = "sha256-" + base64.b64encode(digest).decode("ascii")

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        session: SessionUser | None = None,
        title: str,
        **context: Any,
    ) -> HTMLResponse:
        csrf = console_csrf_token(self.settings.secret_key, session.csrf_secret) if session else ""
        user = session.user if session else None
        html = self.env.get_template(template).render(
            title=title,
            service=self.settings.service_name,
            css=Markup(self.css),  # noqa: S704 - our own constant stylesheet, hashed in the CSP
            user=user,
            csrf=csrf,
            can=(lambda p: user is not None and user.can(Permission(p))),
            **context,
        )
        return HTMLResponse(html, status_code=status)
