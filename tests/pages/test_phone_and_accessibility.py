"""At phone width (375 px) every page fits the screen, every field has a label, text contrasts with
its background (WCAG AA, 4.5:1), and the keyboard alone reaches the submit button, with the focus
visible at each step."""
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from shared.waiting import wait_until
from tests.support.pages import (
    create_published_campaign,
    declare_family,
    lottery_campaign,
    reloading,
    screenshot,
    sign_in,
)

PHONE = {"width": 375, "height": 740}

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => !((e.labels && [...e.labels].some(l => l.textContent.trim())) || e.getAttribute('aria-label')
                 || e.getAttribute('aria-labelledby')))
  .map(e => e.outerHTML)"""

NAMELESS_BUTTONS = """() => [...document.querySelectorAll('button, a[href]')]
  .filter(e => !(e.textContent.trim() || e.getAttribute('aria-label'))).map(e => e.outerHTML)"""

# Relative luminance and contrast ratio as WCAG 2.x defines them; the background is the first opaque
# one among the element's ancestors.
LOW_CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                               return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
  const background = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                               if (c.length === 3 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const low = [];
  for (const e of document.querySelectorAll('body *')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !e.getClientRects().length || e.closest('.sr, [hidden]')) continue;
    const fg = lum(rgb(getComputedStyle(e).color)), bg = lum(background(e));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) low.push(`${e.tagName}.${e.className}: ${ratio.toFixed(2)} «${e.textContent.trim().slice(0, 40)}»`);
  }
  return low;
}"""


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def check_page(page, name: str) -> None:
    assert page.locator('meta[name=viewport][content*="width=device-width"]').count() == 1
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == PHONE["width"], f"{name}: {width[0]} px wide at {PHONE['width']} px"
    assert page.evaluate(UNLABELLED) == [], name
    assert page.evaluate(NAMELESS_BUTTONS) == [], name
    assert page.evaluate(LOW_CONTRAST) == [], name
    screenshot(page, f"telephone-{name}")


def tab_to(page, button_name: str, limit: int = 60) -> None:
    """Tab from the top of the page until the button has the focus; every stop shows a focus outline."""
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
            return {text: e.textContent.trim(), tag: e.tagName, name: e.name, type: e.type, outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")
        assert focused["outline"] != "none" and focused["width"] >= 2, focused
        if focused["tag"] == "BUTTON" and focused["text"] == button_name:
            return
    raise AssertionError(f"the keyboard did not reach « {button_name} » in {limit} presses")


def test_parent_pages_at_phone_width(stack, phone):
    account = stack.account("parent")
    declare_family(stack, account, "Jules", date(2016, 9, 2))
    campaign = create_published_campaign(stack, lottery_campaign(timedelta(seconds=3), f"Stages {uuid.uuid4().hex[:4]}"))

    sign_in(phone, stack.portal, account)
    check_page(phone, "campagnes")
    phone.goto(f"{stack.portal}/famille")
    check_page(phone, "foyer")

    phone.get_by_role("link", name="Campagnes", exact=True).click()
    phone.get_by_role("link", name=f"pour Jules — {campaign['title']}").click()
    wait_until(reloading(phone, lambda: phone.locator("#choice_1").count()), timeout=30, interval=1,
               what="the form at the opening")
    check_page(phone, "formulaire")
    tab_to(phone, "Envoyer ma demande")
    phone.get_by_label("Choix n°1").select_option(campaign["offers"][0]["id"])
    phone.get_by_label("J'atteste sur l'honneur").focus()
    phone.keyboard.press("Space")  # the sworn statement, by keyboard
    assert phone.get_by_label("J'atteste sur l'honneur").is_checked()
    phone.keyboard.press("Tab")
    assert phone.evaluate("() => document.activeElement.textContent.trim()") == "Envoyer ma demande"
    phone.keyboard.press("Enter")
    expect(phone.get_by_text("Demande enregistrée", exact=True)).to_be_visible()
    check_page(phone, "demande-envoyee")
    phone.goto(f"{stack.portal}/demandes")
    check_page(phone, "mes-demandes")
    phone.goto(f"{stack.portal}/messages")
    check_page(phone, "messages")


def test_manager_pages_at_phone_width(stack, phone):
    campaign = create_published_campaign(stack, lottery_campaign(timedelta(hours=1), closes_in=timedelta(hours=2), title=f"Stages {uuid.uuid4().hex[:4]}"))
    sign_in(phone, stack.portal, stack.account("manager"))
    check_page(phone, "gestion-campagnes")
    phone.goto(f"{stack.portal}/gestion/campagnes/nouvelle")
    check_page(phone, "gestion-nouvelle-campagne")
    tab_to(phone, "Créer la campagne", limit=100)  # the reserved-share fields are on the way
    phone.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    for summary in phone.locator("summary").all():
        summary.click()  # every form open: its fields are checked too
    check_page(phone, "gestion-campagne")
