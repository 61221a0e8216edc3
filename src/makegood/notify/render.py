"""E-mail rendering: subject, plain text and HTML of an offer notice, in the account's language.

Templates live in the package (``templates/<language>/offer.txt`` and ``offer.html``, and
``reminder.*`` for the reminder before expiry), and an operator may override any of them from
settings.template_dir (see ``template_source``). The account's locale picks the language
(domain.languages.match_locale: es-MX -> es); a locale without templates gets the whole
message in the fallback language (MAKEGOOD_FALLBACK_LOCALE, English by default), its amounts
and dates formatted for that language too.

Values inside sentences (amounts, dates, names, the phone number) are bidi-isolated, so a
right-to-left text does not scramble them: ``<bdi>`` (or ``dir="ltr"``) in HTML, and in the
plain text of a right-to-left language the Unicode isolates U+2068 / U+2066 ... U+2069.
Rendering happens at send time, because the raw claim token exists only in the pending
outbox row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import TemplateError
from markupsafe import Markup, escape

from makegood.domain.languages import LocaleChoice, match_locale
from makegood.notify.formatting import (
    format_date_long,
    format_datetime_utc,
    format_money,
)
from makegood.notify.template_source import (
    available_templates,
    environment,
    fault,
    template_key,
)
from makegood.notify.why_texts import why_sentence
from makegood.settings import Settings

# Message template -> template files (``<language>/<file>.txt`` and ``.html``).
TEMPLATE_FILES = {"offer_claim": "offer", "offer_granted": "offer", "offer_reminder": "reminder"}
TEMPLATES = tuple(TEMPLATE_FILES)


class RenderError(ValueError):
    """A notice that cannot become an e-mail (unknown template, claim notice without token)."""


@dataclass(frozen=True, slots=True)
class OfferNotice:
    """Everything an offer e-mail says, in neutral form (UTC instants, minor units)."""

    template: str  # offer_claim | offer_granted
    locale: str  # BCP 47, the account's
    amount_minor: int
    currency: str
    plan_name: str
    incident_title: str
    incident_starts_at: datetime
    incident_ends_at: datetime
    expires_at: datetime
    # The evidence: this account's own failed playback attempts in the outage window.
    failed_attempts: int | None = None
    first_failure_at: datetime | None = None
    last_failure_at: datetime | None = None
    claim_token: str | None = None  # raw; required for offer_claim
    statement_date: date | None = None  # offer_granted: the statement the credit lands on
    # What the amount is for (domain.policy.Why and its count): "for 2 days of service".
    why: str | None = None
    why_count: int | None = None


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str  # the template language actually used
    locale: str = ""  # what its numbers and dates follow, and its Content-Language


@dataclass(frozen=True, slots=True)
class ShortText:
    """An SMS / push text and the BCP 47 tag of the language it is written in (the fallback's
    when the account's language has no template), for the provider."""

    text: str
    locale: str


def template_languages(template_dir: Path | None = None) -> frozenset[str]:
    """Languages with their own offer templates (en, es, fr, de, pt, ja, and any an override
    folder adds)."""
    names = available_templates(template_key(template_dir))
    return frozenset(name.split("/")[0] for name in names if name.endswith("/offer.txt"))


def email_locale(locale: str | None, settings: Settings, stem: str = "offer") -> LocaleChoice:
    """The language and formats of a message to an account of `locale`: its language when
    that has `stem` templates (packaged or overridden), else MAKEGOOD_FALLBACK_LOCALE's."""
    names = available_templates(template_key(settings.template_dir))
    languages = {name.split("/")[0] for name in names if name.endswith(f"/{stem}.txt")}
    return match_locale([locale], languages, settings.fallback_locale)


# Context values that sit inside sentences, isolated so that bidi reordering cannot mix them
# with the words around them; the phone number always reads left to right.
ISOLATED = (
    "service_name",
    "amount",
    "plan_name",
    "incident_title",
    "outage_start",
    "outage_end",
    "first_failure",
    "last_failure",
    "expires",
    "statement_date",
)
LEFT_TO_RIGHT = ("support_phone",)
FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"


def html_isolated(
    context: dict[str, object], names: tuple[str, ...] = ISOLATED
) -> dict[str, object]:
    """`context` with its sentence values (`names`) wrapped for HTML (``<bdi>``, ``dir="ltr"``);
    empty ones stay empty, so that templates can still test them."""
    wrapped = dict(context)
    for name in names:
        if context.get(name) not in (None, ""):
            wrapped[name] = Markup("<bdi>{}</bdi>").format(context[name])
    for name in LEFT_TO_RIGHT:
        if context.get(name) not in (None, ""):
            wrapped[name] = Markup('<span dir="ltr">{}</span>').format(context[name])
    return wrapped


def text_isolated(
    context: dict[str, object], direction: str, names: tuple[str, ...] = ISOLATED
) -> dict[str, object]:
    """`context` for plain text: in a right-to-left language, sentence values between Unicode
    isolates; left-to-right text is left as it is (SMS pay for every extra character)."""
    if direction != "rtl":
        return context
    wrapped = dict(context)
    for name in names:
        if context.get(name) not in (None, ""):
            wrapped[name] = f"{FSI}{context[name]}{PDI}"
    for name in LEFT_TO_RIGHT:
        if context.get(name) not in (None, ""):
            wrapped[name] = f"{LRI}{context[name]}{PDI}"
    return wrapped


def direction_context(direction: str) -> dict[str, str]:
    """`dir` and the sides `start` and `end` by name, for every e-mail's frame: e-mail clients
    (Outlook's above all) ignore CSS logical properties."""
    rtl = direction == "rtl"
    return {
        "dir": direction,
        "start": "right" if rtl else "left",
        "end": "left" if rtl else "right",
    }


def claim_url(settings: Settings, token: str) -> str:
    """The account-specific link a subscriber opens to claim (``{public_url}/claim/{token}``)."""
    return f"{settings.public_base}/claim/{token}"


def render_offer_email(notice: OfferNotice, settings: Settings) -> RenderedEmail:
    """Render one offer notice; raises RenderError when the notice cannot be sent as is."""
    if notice.template not in TEMPLATES:
        raise RenderError(f"unknown e-mail template {notice.template!r}")
    granted = notice.template == "offer_granted"
    if not granted and not notice.claim_token:
        raise RenderError("claim notice without its claim token")
    if granted and notice.statement_date is None:
        raise RenderError("granted notice without the statement date its credit lands on")
    stem = TEMPLATE_FILES[notice.template]
    choice = email_locale(notice.locale, settings, stem)
    language, loc = choice.language, choice.locale
    evidence = notice.failed_attempts is not None and notice.first_failure_at is not None
    context: dict[str, object] = {
        "granted": granted,
        "locale": loc,
        **direction_context(choice.direction),
        "service_name": settings.service_name,
        "amount": format_money(notice.amount_minor, notice.currency, loc),
        "plan_name": notice.plan_name,
        "incident_title": notice.incident_title,
        "outage_start": format_datetime_utc(notice.incident_starts_at, loc),
        "outage_end": format_datetime_utc(notice.incident_ends_at, loc),
        "has_evidence": evidence,
        "failed_attempts": notice.failed_attempts or 0,
        "first_failure": _when(notice.first_failure_at, loc),
        "last_failure": _when(notice.last_failure_at or notice.first_failure_at, loc),
        "expires": format_datetime_utc(notice.expires_at, loc),
        "claim_url": "" if granted else claim_url(settings, notice.claim_token or ""),
        "statement_date": (
            format_date_long(notice.statement_date, loc) if notice.statement_date else ""
        ),
        "support_phone": settings.support_phone,
        "support_url": settings.support_url,
        "why_amount": why_sentence(notice.why, notice.why_count, language),
    }
    # The per-subscriber values go in as placeholders and are substituted afterwards, so a
    # campaign renders its templates once per language, amount and shape of evidence, not
    # once per subscriber. The shape keeps what templates branch on (one attempt or several,
    # one instant or a span), so the result is exactly what a direct render gives.
    personal = {name: str(context[name]) for name in _SLOTS}
    shaped: dict[str, object] = {**context, **_SLOTS}
    if context["failed_attempts"] == 1:
        shaped["failed_attempts"] = 1
    if context["first_failure"] == context["last_failure"]:
        shaped["last_failure"] = _SLOTS["first_failure"]
    key = template_key(settings.template_dir)
    shape = _render_shape(key, f"{language}/{stem}", tuple(sorted(shaped.items())))
    text, html = shape.text, shape.html
    for name, slot in _SLOTS.items():
        text = text.replace(slot, personal[name])
        html = html.replace(slot, str(escape(personal[name])))
    return RenderedEmail(subject=shape.subject, text=text, html=html, language=language, locale=loc)


_SLOTS: dict[str, str] = {
    name: f"\ue000{name}\ue001"  # private-use characters: never in real text
    for name in ("claim_url", "failed_attempts", "first_failure", "last_failure")
}


@lru_cache(maxsize=512)
def _render_shape(
    key: str | None, path: str, items: tuple[tuple[str, object], ...]
) -> RenderedEmail:
    context = dict(items)
    env = environment(key)
    language = path.split("/", 1)[0]
    name = f"{path}.txt"
    try:
        try:
            text_context = text_isolated(context, str(context.get("dir", "ltr")))
            text_module = env.get_template(name).make_module(text_context)
        except Exception:
            # make_module, unlike render, leaves the traceback in compiled-code lines;
            # this maps it to the template's own lines before it is reported.
            env.handle_exception()
        subject = " ".join(str(getattr(text_module, "subject", "")).split())
        if not subject:
            raise RenderError(f"template {path}.txt does not set a subject")
        name = f"{path}.html"
        html = env.get_template(name).render({**html_isolated(context), "subject": subject})
    except TemplateError as exc:
        # An operator's override that does not compile or render: say where, and do not
        # let the caller mistake it for a problem of this one message.
        raise fault(exc, name) from exc
    return RenderedEmail(subject=subject, text=str(text_module), html=html, language=language)


def render_short_text(notice: OfferNotice, settings: Settings) -> ShortText:
    """The one-paragraph SMS / push text of an offer notice, in the account's language
    (``templates/<language>/short.txt``) or the fallback's: amount, and for a claim the
    deadline and link; with the locale it is written in."""
    granted = notice.template == "offer_granted"
    if not granted and not notice.claim_token:
        raise RenderError("claim notice without its claim token")
    choice = email_locale(notice.locale, settings, "short")
    loc = choice.locale
    context: dict[str, object] = {
        "granted": granted,
        "service_name": settings.service_name,
        "amount": format_money(notice.amount_minor, notice.currency, loc),
        "expires": format_datetime_utc(notice.expires_at, loc),
        "claim_url": "" if granted else claim_url(settings, notice.claim_token or ""),
    }
    name = f"{choice.language}/short.txt"
    template = environment(template_key(settings.template_dir)).get_template
    try:
        text = template(name).render(text_isolated(context, choice.direction))
    except TemplateError as exc:
        raise fault(exc, name) from exc
    return ShortText(" ".join(text.split()), loc)


def _when(moment: datetime | None, locale: str) -> str:
    return format_datetime_utc(moment, locale) if moment is not None else ""
