"""A real browser shows the Arabic claim page right to left at phone width (issue 15, item 5):
dir="rtl", the layout mirrored (labels on the right), nothing wider than the screen, and the
amount intact inside an isolate. The screenshot is docs/screenshots/claim-ar-phone.png."""

from __future__ import annotations

from typing import Any

import pytest

from makegood.notify.formatting import format_money
from tests.factories.offers import seed_offer
from tests.harness.browser import PHONE, Site, shot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_arabic_claim_page_on_a_phone(browser: Any, site: Site) -> None:
    seeded = seed_offer(
        site.container.engine,
        site.container.now(),
        email="layla.hassan@example.com",
        locale="ar-EG",
        currency="EGP",
        price_minor=41667,
        amount_minor=1250,
    )
    amount = format_money(1250, "EGP", "ar-EG")
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{site.base}/claim/{seeded.token}")

    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("ar", "rtl")
    assert page.get_by_role("heading", level=1).inner_text() == "لك لدينا رصيد تعويضي"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The amount: whole, in its own isolate, in the list and in the sentence.
    shown = page.locator("dd.amount bdi")
    assert shown.text_content() == amount
    assert shown.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    intro = page.locator("h1 + p")
    assert intro.locator("bdi", has_text="12.50").text_content() == amount
    assert intro.locator('span[dir="ltr"]').text_content() == "l***@example.com"
    # Mirrored: each label sits to the right of its value.
    label = page.locator("dt").first.bounding_box()
    value = page.locator("dd").first.bounding_box()
    assert label is not None
    assert value is not None
    assert label["x"] > value["x"]
    # The support phone number reads left to right: "+1" to the left of its last group.
    phone = page.locator('.support span[dir="ltr"]')
    assert phone.text_content() == site.container.settings.support_phone
    first, last = phone.evaluate(
        """e => ["+1", "0100"].map(s => {
            const r = document.createRange(), i = e.firstChild.data.indexOf(s);
            r.setStart(e.firstChild, i); r.setEnd(e.firstChild, i + s.length);
            return r.getBoundingClientRect().x; })"""
    )
    assert first < last
    shot(page, "claim-ar-phone")
