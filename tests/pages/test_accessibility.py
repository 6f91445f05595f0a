"""Accessibility beyond the phone-width checks: a countdown that a screen reader hears only at a few steps, and the
accessibility statement (RGAA 4.1) linked from every page's footer. axe-core on every page of both roles, and the
keyboard-only journey: test_every_page_accessible.py."""
import uuid
from datetime import date, timedelta

from playwright.sync_api import expect

from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.pages import create_published_campaign, declare_family, lottery_campaign, sign_in

# Counts what a screen reader would be told: every change of the live region's text.
WATCH_ANNOUNCEMENTS = """() => {
  const region = document.querySelector('[data-countdown-announce]');
  window.announced = [];
  window.timerChanges = 0;
  new MutationObserver(() => window.announced.push(region.textContent))
    .observe(region, {childList: true, characterData: true, subtree: true});
  new MutationObserver(() => window.timerChanges++)
    .observe(document.querySelector('[data-countdown]'), {childList: true, characterData: true, subtree: true});
}"""


def assert_no_violation(page, name: str) -> None:
    found = axe_violations(page)
    assert found == [], f"{name}:\n" + "\n".join(found)


def test_the_countdown_is_announced_at_a_few_steps_not_every_second(stack, page):
    account = stack.account("parent")
    child_id = declare_family(stack, account, "Inès", date(2015, 3, 8))
    campaign = create_published_campaign(stack, lottery_campaign(timedelta(seconds=45), f"Stages {uuid.uuid4().hex[:4]}"))
    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/campagnes/{campaign['id']}/enfants/{child_id}")

    timer = page.locator("[data-countdown]")
    expect(timer).to_contain_text("Ouverture dans")
    assert timer.get_attribute("role") == "timer" and timer.get_attribute("aria-live") is None
    announcer = page.locator("[data-countdown-announce]")
    assert announcer.get_attribute("aria-live") == "polite" and announcer.inner_text() == ""
    page.evaluate(WATCH_ANNOUNCEMENTS)

    wait_until(lambda: page.evaluate("() => window.announced.length") > 0, timeout=30, interval=0.25,
               what="the 30-second announcement")
    assert page.evaluate("() => window.announced") == ["Ouverture des inscriptions dans 30 secondes."]
    page.wait_for_timeout(4000)
    # The figure kept changing every second; the live region said nothing more until its next step (10 s).
    assert page.evaluate("() => window.timerChanges") >= 4
    assert page.evaluate("() => window.announced") == ["Ouverture des inscriptions dans 30 secondes."]


def test_the_accessibility_statement_is_linked_from_the_footer(stack, page):
    sign_in(page, stack.portal, stack.account("parent"))
    page.get_by_role("contentinfo").get_by_role("link", name="Accessibilité : partiellement conforme").click()
    expect(page.get_by_role("heading", name="Déclaration d'accessibilité", level=1)).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("partiellement conforme")
    expect(main).to_contain_text("RGAA), version 4.1")
    for section in ("État de conformité", "Résultats des tests", "Contenus non accessibles",
                    "Établissement de cette déclaration", "Retour d'information et contact", "Voies de recours"):
        expect(page.get_by_role("heading", name=section, level=2)).to_be_visible()
    expect(main).to_contain_text("axe-core")
    expect(main).to_contain_text("Défenseur des droits")
    assert_no_violation(page, "accessibilite")
    # Public: read without signing in too.
    page.context.clear_cookies()
    page.goto(f"{stack.portal}/accessibilite")
    expect(page.get_by_role("heading", name="Déclaration d'accessibilité", level=1)).to_be_visible()
