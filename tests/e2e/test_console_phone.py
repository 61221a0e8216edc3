"""The console on a 390 px wide phone (issue 12, item 15): no page scrolls sideways (long ids
wrap, wide tables and charts scroll inside their own frame) and chart labels stay legible
(at least 10 px as drawn). Debian's Chromium through Playwright, as test_browser_flows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from makegood.cli import data_cmds
from makegood.services import console_queries as q
from makegood.services.claims import claim_offer_by_id
from makegood.telemetry.demo_world import generate_world
from tests.factories.staff import add_staff
from tests.harness.browser import PHONE, Site, launched_campaign, shot, sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@click.group()
def cli() -> None:
    """`makegood incident create`, run against the test's container."""


data_cmds.register(cli)

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


def test_campaign_and_account_pages_fit_a_phone(browser: Any, site: Site) -> None:
    draft = launched_campaign(site)
    with site.container.uow() as uow:
        offers = q.offers_for(uow, campaign_id=draft.campaign_id)
    with site.container.uow() as uow:
        claim_offer_by_id(uow, offers[0]["id"], site.container.now(), via="web")
        uow.commit()
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


def test_the_detection_chart_stays_legible_on_a_phone(
    browser: Any,
    site: Site,
    tmp_path: Path,
) -> None:
    world = generate_world(tmp_path / "world", accounts=3_000, days=2, attempts=120_000)
    declared = CliRunner().invoke(
        cli,
        [
            "incident", "create", "--from-detection", "1", "--events", str(world.attempts_dir),
            "--by", "region", "--bucket", "5m",
        ],
        obj=site.container,
    )  # fmt: skip
    assert declared.exit_code == 0, declared.output
    incident_id = declared.stdout.strip().splitlines()[-1]
    add_staff(site.container, "viewer")
    page = sign_in(browser, site, "viewer", PHONE)
    page.goto(f"{site.base}/console/incidents/{incident_id}")
    assert page.get_by_role("img", name=re.compile("Failure ratio")).count() == 1
    sizes = fits_the_phone(page, "console-incident-detection-phone")
    assert sizes
    assert min(sizes) >= 10, f"detection chart text drawn at {min(sizes):.1f} px"
