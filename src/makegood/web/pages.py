"""Rendering of the claim pages: texts in the account's language, amounts and dates via Babel.

The language is domain.languages.match_locale's, as for e-mails: the account's when we know
the account, else the browser's (Accept-Language), else MAKEGOOD_FALLBACK_LOCALE's, and then
the page's words, formats, ``lang``, ``dir`` and Content-Language all follow it. Values inside
sentences are bidi-isolated (``say``), so Arabic text does not scramble an amount or a date.

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
from markupsafe import Markup, escape

from makegood.domain.languages import LocaleChoice, match_locale
from makegood.notify.formatting import (
    format_date_long,
    format_datetime_utc,
    format_money,
)
from makegood.notify.why_texts import why_sentence
from makegood.services.claims import OfferView
from makegood.settings import Settings
from makegood.web.texts import TEXTS, texts_for

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True, slots=True)
class OfferText:
    """An offer as the page shows it: every value already formatted for the reader's locale."""

    email: str
    amount: str
    plan: str
    incident: str
    evidence: Markup | None
    why: str  # what the amount is for, in the reader's language ("" when not known)
    expires_at: str
    statement_date: str
    credited_at: str | None


def isolate(value: object) -> Markup:
    """`value` bidi-isolated (``<bdi>``: its own direction, whatever the text around it); a
    bare count needs no isolating, as digits alone keep their order in any text."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, int):
        return escape(str(value))
    return Markup("<bdi>{}</bdi>").format(value)


def ltr(value: object) -> Markup:
    """`value` isolated and always left to right: an e-mail address, a phone number, a link."""
    return Markup('<span dir="ltr">{}</span>').format(value)


def say(text: str, **values: object) -> Markup:
    """A translated sentence with its `str.format` placeholders filled, each value isolated
    (see isolate) and everything escaped."""
    return escape(text).format(**{name: isolate(value) for name, value in values.items()})


def offer_text(view: OfferView, choice: LocaleChoice) -> OfferText:
    # Numbers and dates follow the locale the words are in: the account's, or the fallback's.
    language, locale = choice.language, choice.locale
    evidence = None
    why = ""
    if view.evidence is not None:
        why = why_sentence(view.evidence.why, view.evidence.why_count, language)
        count = view.evidence.failed_attempts
        first = format_datetime_utc(view.evidence.first_failure_at, locale)
        last = format_datetime_utc(view.evidence.last_failure_at, locale)
        # As the e-mail does: one attempt, or several within the minute shown, is one moment.
        key = "evidence_one" if count == 1 else "evidence_at" if first == last else "evidence"
        evidence = say(texts_for(language)[key], count=count, first=first, last=last)
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
        self.env.globals.update(say=say, isolate=isolate, ltr=ltr)
        self.css = (TEMPLATES / "claim.css").read_text(encoding="utf-8")
        digest = hashlib.sha256(self.css.encode("utf-8")).digest()
        self.style_hash = "sha256-" + base64.b64encode(digest).decode("ascii")

    def language_for(self, view: OfferView | None, accept_language: str | None) -> LocaleChoice:
        """The account's language when we know the account, else the browser's, else the
        fallback (MAKEGOOD_FALLBACK_LOCALE)."""
        candidates = [view.locale] if view is not None else languages_from_header(accept_language)
        return match_locale(candidates, TEXTS, self.settings.fallback_locale)

    def render(
        self,
        template: str,
        *,
        status: int,
        language: LocaleChoice,
        view: OfferView | None = None,
        **context: Any,
    ) -> HTMLResponse:
        t = texts_for(language.language)
        page = template.removesuffix(".html")
        html = self.env.get_template(template).render(
            lang=language.language,
            dir=language.direction,
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
        response = HTMLResponse(html, status_code=status)
        response.headers["Content-Language"] = language.language
        return response
