"""The console on a 390 px wide phone (issue 12, item 15): no page scrolls sideways (long ids
wrap, wide tables and charts scroll inside their own frame) and chart labels stay legible
(at least 10 px as drawn). Debian's Chromium through Playwright, as test_browser_flows."""

from __future__ import annotations

from typing import Any

import pytest

from makegood.services import console_queries as q
from makegood.services.claims import claim_offer_by_id
from tests.e2e.test_browser_flows import (  # noqa: F401 - the fixtures are used by name
    PHONE,
    Site,
    browser,
    launched_campaign,
    shot,
    sign_in,
    site,
)
from tests.integration.web_seed import add_staff

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

# Every <text> of every chart: its font size as drawn (the SVG's scale applied), in CSS px.
CHART_TEXT_SIZES = """() => [...document.querySelectorAll('svg text')].map(t => {
    const ctm = t.getScreenCTM();
    return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b);
})"""
PAGE_WIDTH = "document.scrollingElement.scrollWidth"


def fits_the_phone(page: Any, name: str) -> list[float]:
    """Assert the page does not scroll sideways; returns its chart text sizes."""
    shot(page, name)
    width = page.evaluate(PAGE_WIDTH)
    assert width <= PHONE["width"], f"{name} is {width} px wide on a {PHONE['width']} px screen"
    return list(page.evaluate(CHART_TEXT_SIZES))


def test_campaign_and_account_pages_fit_a_phone(browser: Any, site: Site) -> None:  # noqa: F811
    draft = launched_campaign(site)
    with site.container.uow() as uow:
        offers = q.offers_for(uow, campaign_id=draft.campaign_id)
    with site.container.uow() as uow:
        claim_offer_by_id(uow, offers[0]["id"], site.container.now(), via="web")
    add_staff(site.container, "admin")
    page = sign_in(browser, site, "admin", PHONE)

    page.goto(f"{site.base}/console/campaigns/{draft.campaign_id}")
    sizes = fits_the_phone(page, "console-campaign-phone")
    assert page.get_by_role("img", name="Funnel").count() == 1
    assert page.get_by_role("img", name="Claims per day").count() == 1
    assert sizes, "no chart text on the campaign page"
    assert min(sizes) >= 10, f"chart text drawn at {min(sizes):.1f} px"

    page.goto(f"{site.base}/console/accounts/{draft.account_ids[0]}")
    fits_the_phone(page, "console-account-phone")
    # The messages table is all there, scrolled inside its card rather than the page.
    frame = page.locator(".frame").filter(has=page.get_by_role("table", name="Every"))
    assert frame.evaluate("e => getComputedStyle(e).overflowX") == "auto"

    page.goto(f"{site.base}/console/incidents/{draft.incident_id}")
    fits_the_phone(page, "console-incident-phone")
