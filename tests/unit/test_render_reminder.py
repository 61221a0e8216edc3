"""The reminder before expiry reads right in every shipped language: amount, deadline, link,
evidence, in both the HTML and the text part, and in words of its own."""

from __future__ import annotations

import pytest

from makegood.notify.render import render_offer_email
from tests.factories.notices import CASES, LINK, SETTINGS, notice


@pytest.mark.parametrize(("locale", "currency", "minor", "amount", "expiry", "language"), CASES)
def test_reminder_in_each_language(
    locale: str, currency: str, minor: int, amount: str, expiry: str, language: str
) -> None:
    mail = render_offer_email(notice(locale, currency, minor, template="offer_reminder"), SETTINGS)
    claim = render_offer_email(notice(locale, currency, minor), SETTINGS)

    assert mail.language == language
    assert amount in mail.subject
    assert expiry in mail.subject  # the deadline is the point of a reminder
    assert mail.subject != claim.subject
    for part in (mail.text, mail.html):
        assert amount in part
        assert expiry in part
        assert "Unlimited HD" in part
        assert "Playback outage" in part
        assert "4" in part  # the evidence
        assert "+1 800 555 0199" in part
        assert "{{" not in part
        assert "{%" not in part
    assert LINK in mail.text
    assert f'href="{LINK}"' in mail.html
    assert f'lang="{locale}"' in mail.html


def test_reminders_have_their_own_words_per_language() -> None:
    subjects = {
        render_offer_email(notice(c[0], template="offer_reminder"), SETTINGS).subject for c in CASES
    }
    assert len(subjects) == len(CASES)


def test_reminder_without_a_link_cannot_be_rendered() -> None:
    from makegood.notify.render import RenderError

    with pytest.raises(RenderError, match="token"):
        render_offer_email(notice("en-US", template="offer_reminder", claim_token=None), SETTINGS)
