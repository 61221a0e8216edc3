"""Rendering of the claim pages: texts in the account's language, amounts and dates via Babel.

No JavaScript and no external assets; the one stylesheet is inlined and allowed by its hash in
the Content-Security-Policy, so the policy can forbid everything else.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from makegood.notify.formatting import (
    format_date_long,
    format_datetime_utc,
    format_money,
    language_of,
)
from makegood.notify.why_texts import why_sentence
from makegood.services.claims import OfferView
from makegood.settings import Settings
from makegood.web.texts import TEXTS, pick_language, texts_for

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True, slots=True)
class OfferText:
    """An offer as the page shows it: every value already formatted for the reader's locale."""

    email: str
    amount: str
    plan: str
    incident: str
    evidence: str | None
    why: str  # what the amount is for, in the reader's language ("" when not known)
    expires_at: str
    statement_date: str
    credited_at: str | None


def _display_locale(view: OfferView) -> str:
    # Numbers and dates follow the account's locale only when the words do too: a Swahili date
    # inside English sentences reads worse than an English one.
    return view.locale if language_of(view.locale) in TEXTS else "en"


def offer_text(view: OfferView, language: str) -> OfferText:
    locale = _display_locale(view)
    evidence = None
    why = ""
    if view.evidence is not None:
        why = why_sentence(view.evidence.why, view.evidence.why_count, language)
        count = view.evidence.failed_attempts
        first = format_datetime_utc(view.evidence.first_failure_at, locale)
        last = format_datetime_utc(view.evidence.last_failure_at, locale)
        # As the e-mail does: one attempt, or several within the minute shown, is one moment.
        key = "evidence_one" if count == 1 else "evidence_at" if first == last else "evidence"
        evidence = texts_for(language)[key].format(count=count, first=first, last=last)
    return OfferText(
        email=view.masked_email,
        amount=format_money(view.amount_minor, view.currency, locale),
        plan=view.plan_name,
        incident=view.incident_title,
        evidence=evidence,
        why=why,
        expires_at=format_datetime_utc(view.expires_at, locale),
        statement_date=format_date_long(view.statement_date, locale),
        credited_at=(format_datetime_utc(view.credited_at, locale) if view.credited_at else None),
    )


def languages_from_header(accept_language: str | None) -> list[str]:
    """Language tags of an Accept-Language header, most preferred first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


class Pages:
    """Renders each page to an HTMLResponse; the status code is the caller's decision."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            auto_reload=False,
        )
        self.css = (TEMPLATES / "claim.css").read_text(encoding="utf-8")
        digest = hashlib.sha256(self.css.encode("utf-8")).digest()
        self.style_hash = "sha256-" + base64.b64encode(digest).decode("ascii")

    @staticmethod
    def language_for(view: OfferView | None, accept_language: str | None) -> str:
        """The account's language when we know the account, else the browser's."""
        if view is not None:
            return pick_language([view.locale])
        return pick_language(languages_from_header(accept_language))

    def render(
        self,
        template: str,
        *,
        status: int,
        language: str,
        view: OfferView | None = None,
        **context: Any,
    ) -> HTMLResponse:
        t = texts_for(language)
        page = template.removesuffix(".html")
        html = self.env.get_template(template).render(
            lang=language,
            t=t,
            title=t[f"{page.replace('_', '')}_title"],
            page=page,
            service=self.settings.service_name,
            support_phone=self.settings.support_phone,
            support_url=self.settings.support_url,
            css=Markup(self.css),  # noqa: S704 - our own constant stylesheet, hashed in the CSP
            offer=offer_text(view, language) if view is not None else None,
            **context,
        )
        return HTMLResponse(html, status_code=status)
