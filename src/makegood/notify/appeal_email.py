"""An appeal's e-mails, in the account's language (``templates/<language>/appeal.txt`` and
``appeal.html``): what the logs hold when they did not confirm the appeal (`appeal_review`),
and an agent's decline with its reason (`appeal_declined`). A granted appeal is told by the
offer e-mails (`offer_granted`, or `offer_claim` for an offer found in the logs).

Rendered at send time from the appeal row (`uow.appeals.for_email`): counts and first/last
instants of the failed and the successful attempts in the incident's window, dates and
times in the account's language, in UTC (the product keeps no time zone per account).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import TemplateError

from makegood.notify.formatting import format_datetime_utc
from makegood.notify.render import (
    RenderedEmail,
    direction_context,
    email_locale,
    html_isolated,
    text_isolated,
)
from makegood.notify.template_source import environment, fault, template_key
from makegood.settings import Settings
from makegood.telemetry.account_log import AccountLog

STEM = "appeal"
TEMPLATES = {"appeal_review": "review", "appeal_declined": "declined"}
ISOLATED = ("incident_title", "window", "failed_span", "success_span", "reason", "service_name")


@dataclass(frozen=True, slots=True)
class AppealNotice:
    template: str  # appeal_review | appeal_declined
    locale: str
    incident_title: str
    incident_starts_at: datetime
    incident_ends_at: datetime
    log: AccountLog
    reason: str | None = None


def render_appeal_email(notice: AppealNotice, settings: Settings) -> RenderedEmail:
    """Subject, text and HTML of one appeal e-mail in the account's language."""
    choice = email_locale(notice.locale, settings, STEM)
    language, locale = choice.language, choice.locale
    log = notice.log
    context: dict[str, Any] = {
        "locale": locale,
        **direction_context(choice.direction),
        "kind": TEMPLATES[notice.template],
        "service_name": settings.service_name,
        "support_phone": settings.support_phone,
        "support_url": settings.support_url,
        "incident_title": notice.incident_title,
        "window": _span(notice.incident_starts_at, notice.incident_ends_at, locale),
        "failed_count": log.failed_attempts,
        "failed_span": _span(log.first_failure_at, log.last_failure_at, locale),
        "success_count": log.successful_attempts,
        "success_span": _span(log.first_success_at, log.last_success_at, locale),
        "reason": notice.reason or "",
    }
    env = environment(template_key(settings.template_dir))
    name = f"{language}/{STEM}.txt"
    try:
        text_module = env.get_template(name).make_module(
            text_isolated(context, choice.direction, ISOLATED)
        )
        subject = " ".join(str(getattr(text_module, "subject", "")).split())
        name = f"{language}/{STEM}.html"
        html = env.get_template(name).render(
            {**html_isolated(context, ISOLATED), "subject": subject}
        )
    except TemplateError as exc:
        raise fault(exc, name) from exc
    return RenderedEmail(
        subject=subject, text=str(text_module), html=html, language=language, locale=locale
    )


def _span(first: datetime | None, last: datetime | None, locale: str) -> str:
    """First and last joined by an en dash, or one instant when both read the same minute;
    "" without any."""
    if first is None or last is None:
        return ""
    start, end = format_datetime_utc(first, locale), format_datetime_utc(last, locale)
    return start if start == end else f"{start} \u2013 {end}"
