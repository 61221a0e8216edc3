"""Real browser (Debian's Chromium through Playwright) against a real uvicorn server:
a subscriber claims from an e-mail captured by a real SMTP server; an agent resends; an
approver approves and launches; a viewer cannot launch. Screenshots go to artifacts/screenshots
(or $MAKEGOOD_SCREENSHOTS)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from makegood.services import console_queries as q
from makegood.services.campaign_approval import approve_campaign
from makegood.services.claims import claim_offer_by_id
from makegood.services.dispatch import dispatch_pending
from tests.factories.staff import add_staff, seed_draft
from tests.harness.browser import DESKTOP, PHONE, Site, launched_campaign, shot, sign_in

CLAIM_LINK = re.compile(r"http://127\.0\.0\.1:\d+/claim/[A-Za-z0-9_-]+")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_subscriber_claims_from_the_email(browser: Any, site: Site) -> None:
    launched_campaign(site)
    link = CLAIM_LINK.search(site.inbox.text_to("ana@example.com"))
    assert link, "the e-mail carries no claim link"
    page = browser.new_page(viewport=DESKTOP)
    page.goto(link.group(0))
    assert page.get_by_role("heading", level=1).inner_text() == "We owe you a credit"
    assert "$0.30" in page.content()
    shot(page, "claim-en-desktop")
    # By keyboard: the first Tab stop of the page is the button, and Enter submits it.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Apply my credit"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/claim/.+/done$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your credit is applied")
    shot(page, "claim-en-done")

    ja = CLAIM_LINK.search(site.inbox.text_to("kenji@example.jp"))
    assert ja
    phone = browser.new_page(viewport=PHONE)
    phone.goto(ja.group(0))
    assert phone.locator("html").get_attribute("lang") == "ja"
    assert "US$0.30" in phone.content() or "$0.30" in phone.content()
    # Phone layout: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "claim-ja-phone")
    phone.set_viewport_size(DESKTOP)
    shot(phone, "claim-ja-desktop")
    page.set_viewport_size(PHONE)
    page.goto(link.group(0))  # already claimed: says so, in English, on a phone
    shot(page, "claim-en-phone-already")


def test_agent_finds_the_account_and_resends(browser: Any, site: Site) -> None:
    launched_campaign(site)
    old = CLAIM_LINK.search(site.inbox.text_to("ana@example.com"))
    assert old
    add_staff(site.container, "agent")
    page = sign_in(browser, site, "agent")
    page.get_by_role("link", name="Support").click()
    page.get_by_label("Account id or e-mail").fill("ANA@example.com")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Account acc_")
    expect(page.locator("main")).to_contain_text("ana@example.com")
    page.get_by_role("button", name="Resend link").click()
    expect(page.get_by_role("status")).to_contain_text("A new link was queued")
    expect(page.locator("main")).to_contain_text("offer.resent")
    # Every visible form control has a label a screen reader announces.
    unlabeled = page.locator("input:not([type=hidden]), select").evaluate_all(
        "els => els.filter(e => e.labels.length === 0).map(e => e.name)"
    )
    assert unlabeled == []
    shot(page, "console-account")

    assert dispatch_pending(site.container).sent == 1
    new = CLAIM_LINK.findall(site.inbox.text_to("ana@example.com"))
    assert new
    assert new[-1] != old.group(0)
    subscriber = browser.new_page()
    assert subscriber.goto(old.group(0)).status == 404
    assert subscriber.goto(new[-1]).status == 200


def test_approver_approves_and_launches(browser: Any, site: Site) -> None:
    draft = seed_draft(site.container, created_by="lead@care.example.com", accounts=3)
    add_staff(site.container, "approver")
    page = sign_in(browser, site, "approver")
    page.goto(f"{site.base}/console/campaigns/{draft.campaign_id}")
    assert page.locator("#state").inner_text() == "draft"
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#state")).to_have_text("approved")
    page.get_by_role("button", name="Launch").click()
    expect(page.locator("#state")).to_have_text("launched")
    expect(page.get_by_role("status")).to_have_text("Campaign launched.")
    assert page.get_by_role("img", name=re.compile("Funnel")).count() == 1
    # Mail goes out and two of three subscribers claim: the funnel and the chart follow.
    assert dispatch_pending(site.container).sent == 3
    with site.container.uow() as uow:
        offers = q.offers_for(uow, campaign_id=draft.campaign_id)
    for offer in offers[:2]:
        with site.container.uow() as uow:
            claim_offer_by_id(uow, offer["id"], site.container.now(), via="web")
            uow.commit()
    page.reload()
    numbers = page.get_by_role("table", name="Funnel as numbers").inner_text()
    assert numbers.split("\n")[-1].split("\t")[:5] == ["3", "3", "3", "2", "0"]
    assert page.get_by_role("img", name=re.compile("Claims per day")).count() == 1
    shot(page, "console-campaign")


def test_viewer_cannot_launch(browser: Any, site: Site) -> None:
    draft = seed_draft(site.container, created_by="lead@care.example.com")
    approve_campaign(site.container, draft.campaign_id, actor="approver@care.example.com")
    add_staff(site.container, "viewer")
    page = sign_in(browser, site, "viewer")
    page.goto(f"{site.base}/console/campaigns/{draft.campaign_id}")
    assert page.locator("#state").inner_text() == "approved"
    assert page.get_by_role("button", name="Launch").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(
        f"{site.base}/console/campaigns/{draft.campaign_id}/launch",
        form={"csrf_token": token},
        max_redirects=0,
    )
    assert response.status == 403
    page.reload()
    assert page.locator("#state").inner_text() == "approved"
