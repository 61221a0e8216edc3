"""Offer notices to render, and the settings, link and per-language cases of the render tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from makegood.notify.render import OfferNotice
from makegood.settings import Settings

SETTINGS = Settings(public_url="https://claims.example.test/", support_phone="+1 800 555 0199")
TOKEN = "tok_Abc-123_xyz"
LINK = "https://claims.example.test/claim/tok_Abc-123_xyz"


def notice(locale: str, currency: str = "EUR", amount_minor: int = 30, **kw: object) -> OfferNotice:
    base = OfferNotice(
        template="offer_claim",
        locale=locale,
        amount_minor=amount_minor,
        currency=currency,
        plan_name="Unlimited HD",
        incident_title="Playback outage",
        incident_starts_at=datetime(2026, 3, 22, 18, 0, tzinfo=UTC),
        incident_ends_at=datetime(2026, 3, 22, 23, 30, tzinfo=UTC),
        expires_at=datetime(2026, 3, 30, 9, 0, tzinfo=UTC),
        failed_attempts=4,
        first_failure_at=datetime(2026, 3, 22, 18, 5, tzinfo=UTC),
        last_failure_at=datetime(2026, 3, 22, 21, 40, tzinfo=UTC),
        claim_token=TOKEN,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


# locale, currency, minor, expected amount, expected expiry, template language
CASES = [
    ("en-US", "USD", 24, "$0.24", "March 30, 2026, 9:00 AM UTC", "en"),
    ("es-ES", "EUR", 30, "0,30 €", "30 de marzo de 2026, 9:00 UTC", "es"),
    ("fr-FR", "EUR", 30, "0,30 €", "30 mars 2026, 09:00 UTC", "fr"),
    ("de-DE", "EUR", 30, "0,30 €", "30. März 2026, 09:00 UTC", "de"),
    ("pt-BR", "BRL", 30, "R$ 0,30", "30 de março de 2026 09:00 UTC", "pt"),
    ("ja-JP", "JPY", 30, "￥30", "2026年3月30日 9:00 UTC", "ja"),
    ("it-IT", "EUR", 30, "0,30 €", "30 marzo 2026 09:00 UTC", "it"),
    ("nl-NL", "EUR", 30, "€ 0,30", "30 maart 2026, 09:00 UTC", "nl"),
    ("pl-PL", "PLN", 30, "0,30 zł", "30 marca 2026 09:00 UTC", "pl"),
    ("tr-TR", "TRY", 30, "₺0,30", "30 Mart 2026 09:00 UTC", "tr"),
    ("ko-KR", "KRW", 30, "₩30", "2026년 3월 30일 AM 9:00 UTC", "ko"),
    ("ar-EG", "EGP", 30, "\u200f0.30 ج.م.\u200f", "30 مارس 2026، 9:00 ص UTC", "ar"),
]

# language -> the locale the render tests use for it
LOCALES = {
    "en": "en-US",
    "es": "es-ES",
    "fr": "fr-FR",
    "de": "de-DE",
    "pt": "pt-BR",
    "ja": "ja-JP",
    "it": "it-IT",
    "nl": "nl-NL",
    "pl": "pl-PL",
    "tr": "tr-TR",
    "ko": "ko-KR",
    "ar": "ar-EG",
}
