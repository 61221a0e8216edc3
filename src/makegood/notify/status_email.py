"""The status e-mail ("where is my credit?"): every incident of the last 90 days as the account
saw it, in the account's language (``templates/<language>/status.txt`` and ``status.html``).

Rendered at send time from `uow.reports.account_credits` (store/credit_status.py: the query
the account API answers with), so it says what is true when it leaves; fresh claim links come
from the outbox row, where they wait until the server accepted the message (see
status_requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import TemplateError

from makegood.notify.formatting import format_date_long, format_datetime_utc, format_money
from makegood.notify.render import (
    RenderedEmail,
    claim_url,
    direction_context,
    email_locale,
    html_isolated,
    text_isolated,
)
from makegood.notify.template_source import environment, fault, template_key
from makegood.settings import Settings
from makegood.store.credit_status import WINDOW_DAYS, AccountCredits, IncidentCredit

STEM = "status"
# An incident's values that sit in sentences, isolated as the offer e-mail's are.
ENTRY_ISOLATED = (
    "title",
    "window",
    "amount",
    "expires",
    "statement_date",
    "posted_by",
    "appeal_until",
)
TEMPLATE = "credit_status"  # messages.template of a status e-mail
APPEAL_KEY = "appeal:"  # status_links keys of appeal links: "appeal:" + incident id


def appeal_key(incident_id: str) -> str:
    """The key of an incident's appeal link among a status e-mail's fresh links."""
    return APPEAL_KEY + incident_id


def appeal_until_key(incident_id: str) -> str:
    """The key of when that link's appeal window closes (ISO 8601)."""
    return "appeal_until:" + incident_id


def appeal_url(settings: Settings, token: str) -> str:
    """The link a subscriber opens to appeal (``{public_url}/appeal/{token}``)."""
    return f"{settings.public_base}/appeal/{token}"


@dataclass(frozen=True, slots=True)
class StatusNotice:
    """What a status e-mail says: the account's incidents and the fresh link of each open offer
    (offer id -> raw claim token)."""

    credits: AccountCredits
    links: dict[str, str]


def render_status_email(notice: StatusNotice, settings: Settings) -> RenderedEmail:
    """Subject, text and HTML of one status e-mail in the account's language."""
    # As every message: the account's language when we have it, else the fallback's, and the
    # formats follow the words.
    choice = email_locale(notice.credits.locale, settings, STEM)
    language, locale = choice.language, choice.locale
    context: dict[str, Any] = {
        "locale": locale,
        **direction_context(choice.direction),
        "service_name": settings.service_name,
        "support_phone": settings.support_phone,
        "support_url": settings.support_url,
        "window_days": WINDOW_DAYS,
        "entries": [_entry(e, notice.links, settings, locale) for e in notice.credits.incidents],
    }
    env = environment(template_key(settings.template_dir))
    name = f"{language}/{STEM}.txt"
    try:
        text_context = text_isolated(context, choice.direction)
        text_context["entries"] = [
            text_isolated(e, choice.direction, ENTRY_ISOLATED) for e in context["entries"]
        ]
        text_module = env.get_template(name).make_module(text_context)
        subject = " ".join(str(getattr(text_module, "subject", "")).split())
        name = f"{language}/{STEM}.html"
        html_context = html_isolated(context)
        html_context["entries"] = [html_isolated(e, ENTRY_ISOLATED) for e in context["entries"]]
        html = env.get_template(name).render({**html_context, "subject": subject})
    except TemplateError as exc:
        raise fault(exc, name) from exc
    return RenderedEmail(
        subject=subject, text=str(text_module), html=html, language=language, locale=locale
    )


def _entry(
    entry: IncidentCredit, links: dict[str, str], settings: Settings, locale: str
) -> dict[str, Any]:
    # An offer opened between the request and the send has no fresh link here (its launch
    # e-mail carries one); every offer open when the request was taken has.
    token = links.get(entry.offer_id or "")
    appeal = links.get(appeal_key(entry.incident_id))
    return {
        "status": entry.status,
        "title": entry.title,
        "window": f"{_when(entry.starts_at, locale)} \u2013 {_when(entry.ends_at, locale)}",
        "amount": (
            format_money(entry.amount_minor, entry.currency, locale)
            if entry.amount_minor is not None and entry.currency
            else ""
        ),
        "claim_url": claim_url(settings, token) if token else "",
        "expires": _when(entry.offer_expires_at, locale),
        "statement_date": (
            format_date_long(entry.statement_date, locale) if entry.statement_date else ""
        ),
        "posted_by": entry.posted_by,
        "reason": entry.reason or "",
        "appeal_url": appeal_url(settings, appeal) if appeal else "",
        "appeal_until": _until(links.get(appeal_until_key(entry.incident_id)), locale),
    }


def _until(iso: str | None, locale: str) -> str:
    return _when(datetime.fromisoformat(iso), locale) if iso else ""


def _when(moment: datetime | None, locale: str) -> str:
    return format_datetime_utc(moment, locale) if moment is not None else ""
