"""Why this amount: the e-mail (text and HTML) and the claim page say what the credit is for,
in every language the texts have."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from makegood.domain.languages import LocaleChoice
from makegood.domain.policy import Why
from makegood.notify import render as render_module
from makegood.notify.render import RenderedEmail, template_languages
from makegood.notify.why_texts import WHY_TEXTS, why_sentence
from makegood.services.claims import Evidence, OfferView
from makegood.web.pages import offer_text
from makegood.web.texts import TEXTS
from tests.factories.notices import SETTINGS, notice


def test_every_offer_and_reminder_template_says_why() -> None:
    folder = Path(render_module.__file__).with_name("templates")
    for language in template_languages():
        for name in ("offer.txt", "offer.html", "reminder.txt", "reminder.html"):
            assert "why_amount" in (folder / language / name).read_text(encoding="utf-8"), (
                f"{language}/{name}"
            )


def test_every_language_has_every_reason_in_both_forms() -> None:
    assert set(WHY_TEXTS) >= template_languages() | set(TEXTS)
    for language, texts in WHY_TEXTS.items():
        assert set(texts) == {w.value for w in Why}, language
        for one, many in texts.values():
            assert "{n}" in one
            assert "{n}" in many


def test_the_issue_phrases_in_english() -> None:
    assert "for about 3 hours without service" in why_sentence("hours_without_service", 3, "en")
    assert "for 2 days of service" in why_sentence("days_of_service", 2, "en")
    assert "for 1 day of service" in why_sentence("days_of_service", 1, "en")
    assert why_sentence(None, None, "en") == ""
    assert why_sentence("days_of_service", 2, "sw") == why_sentence("days_of_service", 2, "en")


EXPECTED = {
    "en-US": "This credit is for 2 days of service.",
    "es-ES": "Este crédito corresponde a 2 días de servicio.",
    "fr-FR": "Cet avoir correspond à 2 jours de service.",
    "de-DE": "Diese Gutschrift entspricht 2 Tagen Ihres Abonnements.",
    "pt-BR": "Este crédito corresponde a 2 dias de serviço.",
    "ja-JP": "このクレジットはサービス2日分です。",
}


@pytest.mark.parametrize("template", ["offer_claim", "offer_granted", "offer_reminder"])
@pytest.mark.parametrize(("locale", "sentence"), EXPECTED.items())
def test_the_email_says_why(locale: str, sentence: str, template: str) -> None:
    statement_date = date(2026, 4, 1) if template == "offer_granted" else None
    mail = render_offer_email_for(locale, template, statement_date=statement_date)
    assert sentence in mail.text
    assert sentence in mail.html
    without = render_offer_email_for(
        locale, template, why=None, why_count=None, statement_date=statement_date
    )
    assert sentence not in without.text


def render_offer_email_for(
    locale: str,
    template: str,
    *,
    why: str | None = "days_of_service",
    why_count: int | None = 2,
    statement_date: date | None = None,
) -> RenderedEmail:
    from makegood.notify.render import render_offer_email

    offer = notice(
        locale, template=template, why=why, why_count=why_count, statement_date=statement_date
    )
    return render_offer_email(offer, SETTINGS)


def test_the_claim_page_says_why() -> None:
    at = datetime(2026, 3, 22, 18, tzinfo=UTC)
    view = OfferView(
        offer_id="ofr_1",
        state="open",
        masked_email="a***@example.com",
        locale="en-US",
        amount_minor=26,
        currency="USD",
        plan_name="Basic",
        incident_title="Outage",
        incident_starts_at=at,
        incident_ends_at=at,
        evidence=Evidence(3, at, at, "hours_without_service", 3),
        expires_at=at,
        credited_at=None,
        statement_date=date(2026, 4, 1),
    )
    assert (
        offer_text(view, LocaleChoice("en", "en-US")).why
        == "This credit is for about 3 hours without service."
    )
    assert (
        offer_text(view, LocaleChoice("fr", "fr-FR")).why
        == "Cet avoir correspond à environ 3 heures sans service."
    )
