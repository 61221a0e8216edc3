"""A real browser on the subscriber's self-service pages (issue 15): the status page
(`/credits`) and the appeal page, whose form files once and then shows the appeal; Arabic right
to left at phone width, nothing wider than the screen. Screenshots: docs/screenshots/
credits-en-desktop.png, appeal-en-desktop.png and appeal-ar-phone.png."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from makegood.store.tables_appeals import appeals
from tests.factories.appeals import appeal_link, seed_missed
from tests.harness.browser import DESKTOP, PHONE, Site, shot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_the_status_page(browser: Any, site: Site) -> None:
    page = browser.new_page(viewport=DESKTOP, locale="en-US")
    page.goto(f"{site.base}/credits")
    assert page.get_by_role("heading", level=1).inner_text() == "Where is my credit?"
    assert page.get_by_label("E-mail address").is_visible()
    shot(page, "credits-en-desktop")


def test_the_appeal_page_files_once(browser: Any, site: Site) -> None:
    world = seed_missed(site.container, email="ana.appeal@example.com")
    token = appeal_link(site.container, world)
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{site.base}/appeal/{token}")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Could not watch during this outage?"
    )
    page.get_by_label("Roughly when did you try to watch? (optional)").fill("around 9 pm")
    shot(page, "appeal-en-desktop")
    page.get_by_role("button", name="Check my account again").click()
    page.wait_for_selector('[data-state="queued"]')
    page.go_back()
    page.reload()  # the form is gone: the page shows the appeal already filed
    assert page.locator('[data-state="queued"]').count() == 1
    assert page.locator('input[name="note"]').count() == 0
    with site.container.engine.connect() as conn:
        notes = conn.execute(sa.select(appeals.c.note)).scalars().all()
    assert notes == ["around 9 pm"]


def test_the_arabic_appeal_page_on_a_phone(browser: Any, site: Site) -> None:
    world = seed_missed(site.container, locale="ar-EG", email="layla.appeal@example.com")
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{site.base}/appeal/{appeal_link(site.container, world)}")
    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("ar", "rtl")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The incident's title sits whole in its own isolate inside the Arabic sentence.
    assert page.locator("h1 + p bdi", has_text="Outage missed").count() == 1
    # Mirrored: the button's right edge is the form's right edge.
    button = page.get_by_role("button").bounding_box()
    field = page.locator('input[name="note"]').bounding_box()
    assert button is not None
    assert field is not None
    assert abs((button["x"] + button["width"]) - (field["x"] + field["width"])) < 2
    shot(page, "appeal-ar-phone")
