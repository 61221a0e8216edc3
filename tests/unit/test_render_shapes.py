"""Rendering reuses one template render per campaign shape: each subscriber still reads only
their own link and their own evidence, and the result equals a render from scratch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from makegood.notify import render
from makegood.notify.render import render_offer_email
from tests.factories.notices import CASES, SETTINGS, notice


@pytest.mark.parametrize("locale", [case[0] for case in CASES])
def test_two_subscribers_of_one_campaign_each_get_their_own_link_and_evidence(
    locale: str,
) -> None:
    first = notice(locale, claim_token="tokFIRST", failed_attempts=4)
    second = replace(
        first,
        claim_token="tokSECOND",
        failed_attempts=1,
        first_failure_at=datetime(2026, 3, 22, 19, 17, tzinfo=UTC),
        last_failure_at=datetime(2026, 3, 22, 19, 17, tzinfo=UTC),
    )
    a, b = render_offer_email(first, SETTINGS), render_offer_email(second, SETTINGS)

    for mail, own, other in ((a, "tokFIRST", "tokSECOND"), (b, "tokSECOND", "tokFIRST")):
        assert f"/claim/{own}" in mail.text
        assert f'href="https://claims.example.test/claim/{own}"' in mail.html
        assert other not in mail.text + mail.html
        assert "\ue000" not in mail.text + mail.html
    assert "19:17" in b.text or "7:17" in b.text
    assert "19:17" not in a.text
    assert "7:17" not in a.text


@pytest.mark.parametrize("attempts", [1, 2, 7])
@pytest.mark.parametrize("locale", [case[0] for case in CASES])
def test_shaped_render_equals_a_render_from_scratch(locale: str, attempts: int) -> None:
    item = notice(locale, failed_attempts=attempts, claim_token="a<b&c")
    render._render_shape.cache_clear()

    shaped = render_offer_email(item, SETTINGS)
    direct = _direct(item)

    assert (shaped.subject, shaped.text, shaped.html) == direct


def _direct(item: render.OfferNotice) -> tuple[str, str, str]:
    """The templates rendered with the real values, bypassing the placeholders."""
    original = render._SLOTS
    try:
        render._SLOTS = {}
        render._render_shape.cache_clear()
        result = render_offer_email(item, SETTINGS)
    finally:
        render._SLOTS = original
        render._render_shape.cache_clear()
    return result.subject, result.text, result.html
