"""Which language a subscriber is written to: the one rule for e-mails, claim pages and in-app
messages.

A locale (BCP 47: ``es-MX``, ``pt_PT``, ``ar-EG``) matches the available language of its
primary subtag (es-MX -> es, pt-PT -> pt, ar-EG -> ar); the first candidate that matches wins
(an Accept-Language list, most preferred first). When none matches (zh-TW, nb), the whole
message is the fallback's: its words, its number and date formats and its ``lang``, so nobody
reads English sentences with Chinese dates under a tag that claims Chinese. Money keeps its
own currency either way: the fallback changes how an amount is written, never what it is.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

# Every language the package writes to subscribers in (web texts and e-mail templates).
LANGUAGES = ("en", "es", "fr", "de", "pt", "ja", "it", "nl", "pl", "tr", "ko", "ar")
RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur"})
DEFAULT_FALLBACK = "en"

_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True, slots=True)
class LocaleChoice:
    """The language a message is written in and the locale its numbers and dates follow."""

    language: str  # an available language ("es")
    locale: str  # a BCP 47 tag of that language ("es-MX"): formatting, lang, Content-Language

    @property
    def direction(self) -> str:
        """``rtl`` for right-to-left scripts (Arabic), else ``ltr``."""
        return "rtl" if self.language in RIGHT_TO_LEFT else "ltr"


def normalised_tag(tag: str | None) -> str | None:
    """`tag` as a well-formed BCP 47 tag with hyphens ("pt_BR" -> "pt-BR"), None if it is not
    one ("", "*", "x-private", "12")."""
    candidate = (tag or "").strip().replace("_", "-")
    return candidate if _TAG.match(candidate) else None


def language_of(tag: str | None) -> str:
    """The primary language subtag of a BCP 47 tag, lower case ("pt-BR" -> "pt"); "" if none."""
    return (tag or "").replace("_", "-").split("-")[0].strip().lower()


def match_locale(
    candidates: Iterable[str | None], available: Collection[str], fallback: str
) -> LocaleChoice:
    """The first candidate whose language is available, else the fallback (a tag whose
    language is available: settings check it at start)."""
    for tag in candidates:
        normal = normalised_tag(tag)
        if normal is not None and language_of(normal) in available:
            return LocaleChoice(language_of(normal), normal)
    fallback_tag = normalised_tag(fallback) or DEFAULT_FALLBACK
    return LocaleChoice(language_of(fallback_tag), fallback_tag)


def check_fallback(tag: str) -> str:
    """`tag` when it is a well-formed tag of a packaged language; ValueError saying what to set
    otherwise."""
    normal = normalised_tag(tag)
    if normal is None or language_of(normal) not in LANGUAGES:
        raise ValueError(
            f"MAKEGOOD_FALLBACK_LOCALE={tag!r} is not one of the available languages: set it to "
            f"one of {', '.join(LANGUAGES)} (optionally with a region, as en-GB)"
        )
    return normal
