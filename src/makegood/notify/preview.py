"""`makegood template preview` and the start-up check of an operator's template overrides.

A preview renders one e-mail exactly as the worker would (same templates, overrides included,
same formatting) into files an operator opens in a browser or a mail client. With a campaign,
the figures are those of one of its real offers (an account of the requested language when
there is one); the claim link always carries a sample token, because raw claim tokens exist
only in the outbox and must not be written anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from babel.numbers import get_territory_currencies
from jinja2 import TemplateError

from makegood.domain.calendar import statement_date_for
from makegood.domain.errors import NotFound
from makegood.notify.formatting import babel_locale, language_of
from makegood.notify.mime import compose_email
from makegood.notify.render import (
    TEMPLATES,
    OfferNotice,
    RenderedEmail,
    render_offer_email,
    render_short_text,
)
from makegood.notify.template_source import (
    TemplateFault,
    environment,
    fault,
    override_files,
    template_key,
)
from makegood.settings import Settings
from makegood.store.uow import UnitOfWork

SAMPLE_TOKEN = "sample-claim-token"  # noqa: S105 - a placeholder, never a real claim token
SAMPLE_RECIPIENT = "subscriber@example.com"
# The names `template preview --template` accepts, and the message template each stands for.
PREVIEW_TEMPLATES = {
    "offer_claim": "offer_claim",
    "offer_granted": "offer_granted",
    "reminder": "offer_reminder",
    "offer_reminder": "offer_reminder",
}
_SAMPLE_CURRENCY = {
    "ja": "JPY",
    "pt": "BRL",
    "de": "EUR",
    "fr": "EUR",
    "es": "EUR",
    "it": "EUR",
    "nl": "EUR",
    "pl": "PLN",
    "tr": "TRY",
    "ko": "KRW",
    "ar": "AED",
}


@dataclass(frozen=True, slots=True)
class Preview:
    """A rendered preview and the offer it was built from (None: sample data)."""

    rendered: RenderedEmail
    notice: OfferNotice
    offer_id: str | None


def sample_notice(template: str, locale: str, now: datetime) -> OfferNotice:
    """A plausible notice in the locale's own currency (sample data for previews and checks)."""
    day = now.astimezone(UTC).replace(hour=18, minute=0, second=0, microsecond=0)
    starts = day - timedelta(days=2)
    return OfferNotice(
        template=template,
        locale=locale,
        amount_minor=499,
        currency=_sample_currency(locale, day.date()),
        plan_name="Premium",
        incident_title="Playback outage",
        incident_starts_at=starts,
        incident_ends_at=starts + timedelta(hours=3, minutes=25),
        expires_at=day + timedelta(days=14),
        failed_attempts=3,
        first_failure_at=starts + timedelta(minutes=12),
        last_failure_at=starts + timedelta(hours=2, minutes=40),
        claim_token=None if template == "offer_granted" else SAMPLE_TOKEN,
        statement_date=(day + timedelta(days=20)).date() if template == "offer_granted" else None,
    )


def campaign_notice(
    uow: UnitOfWork, campaign_id: str, template: str, locale: str, now: datetime
) -> tuple[str, OfferNotice]:
    """One real offer of the campaign as a notice in `locale` (an offer to an account of that
    language first, else its first offer), with a sample claim token; its statement date is
    the one the real e-mail would name (`statement_date_for`, as services/outbox_batch.py asks)."""
    if uow.campaigns.get(campaign_id) is None:
        raise NotFound(f"no campaign {campaign_id}: `makegood campaign list` shows them")
    # The first offer (by id) to an account of the locale's language, else the first one.
    found = uow.offers.with_terms(
        campaign_id=campaign_id, language=language_of(locale), newest_first=False, limit=1
    ) or uow.offers.with_terms(campaign_id=campaign_id, newest_first=False, limit=1)
    if not found:
        raise NotFound(f"campaign {campaign_id} has no offers yet: launch it first")
    row = found[0]
    notice = OfferNotice(
        template=template,
        locale=locale,
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        plan_name=row["plan_name"],
        incident_title=row["incident_title"],
        incident_starts_at=row["incident_starts_at"],
        incident_ends_at=row["incident_ends_at"],
        expires_at=row["expires_at"],
        failed_attempts=row["failed_attempts"],
        first_failure_at=row["first_failure_at"],
        last_failure_at=row["last_failure_at"],
        why=row["why"],
        why_count=row["why_count"],
        claim_token=None if template == "offer_granted" else SAMPLE_TOKEN,
        statement_date=(
            statement_date_for(row["credited_at"] or now, row["next_bill_date"], row["billing_day"])
            if template == "offer_granted"
            else None
        ),
    )
    return str(row["id"]), notice


def write_preview(preview: Preview, out: Path, settings: Settings, now: datetime) -> list[Path]:
    """Write the preview: one .eml (a complete MIME message) when `out` ends with .eml, else
    `out` with .html and .txt suffixes (the text part starts with its subject line)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".eml":
        composed = compose_email(
            preview.rendered,
            outbox_id="msg_preview",
            recipient=SAMPLE_RECIPIENT,
            locale=preview.notice.locale,
            settings=settings,
            now=now,
        )
        out.write_bytes(composed.data)
        return [out]
    html, text = out.with_suffix(".html"), out.with_suffix(".txt")
    html.write_text(preview.rendered.html, encoding="utf-8")
    text.write_text(f"Subject: {preview.rendered.subject}\n\n{preview.rendered.text}", "utf-8")
    return [html, text]


def default_preview_path(locale: str) -> Path:
    """./template-preview-<locale> (the suffixes are added when writing)."""
    return Path(f"template-preview-{locale}")


def check_templates(settings: Settings, now: datetime | None = None) -> None:
    """Refuse an override folder whose templates do not compile or render: every problem is
    listed as ``FILE:LINE: what`` (raises TemplateFault). Nothing to check without overrides.

    Each overridden language is rendered with sample data in every template, so an unknown
    variable is found at start-up rather than when the first subscriber's e-mail is due.
    """
    if settings.template_dir is None:
        return
    names = override_files(settings.template_dir)
    env = environment(template_key(settings.template_dir))
    problems: list[str] = []
    for name in names:
        try:
            env.get_template(name)
        except (TemplateError, UnicodeDecodeError) as exc:  # each becomes a line of the report
            problems += fault(exc, name).problems
    if not problems:
        moment = now or datetime.now(UTC)
        languages = sorted({n.split("/")[0] for n in names if "/" in n} or {"en"})
        for language in languages:
            for template in TEMPLATES:
                notice = sample_notice(template, language, moment)
                try:
                    render_offer_email(notice, settings)
                    render_short_text(notice, settings)
                except TemplateFault as exc:
                    problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise TemplateFault(
            f"the e-mail templates in MAKEGOOD_TEMPLATE_DIR={settings.template_dir} have "
            f"{len(problems)} problem(s); fix them (or remove the file to use the packaged "
            "one) and start again",
            problems=problems,
        )


def _sample_currency(locale: str, day: date) -> str:
    territory = babel_locale(locale).territory
    if territory:
        currencies = get_territory_currencies(territory, day)
        if currencies:
            return str(currencies[0])
    return _SAMPLE_CURRENCY.get(language_of(locale), "USD")
