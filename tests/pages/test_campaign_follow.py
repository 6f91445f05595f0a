"""A family asks, on the campaigns page, to be told when a campaign opens and reminded before it closes:
both messages reach its inbox, sent by the notifications worker from the campaign's events (the opening
emitted by campaigns' scheduler; the close within 24 h, so the reminder comes at once). axe on the page."""
import uuid
from datetime import date, timedelta

from playwright.sync_api import expect

from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.campaign_reminders import ask_closing_reminder
from tests.support.pages import (
    create_published_campaign,
    declare_family,
    lottery_campaign,
    reloading,
    screenshot,
    sign_in,
)

OPENS_IN = timedelta(seconds=25)


def known_to_notifications(stack, campaign) -> None:
    """The campaign's snapshot reached notifications: checked with another family's request, so the page's own
    buttons are pressed once."""
    ask_closing_reminder(stack.parent("notifications", stack.account("parent")), campaign["id"])


def test_a_family_is_told_at_the_opening_and_reminded_before_the_close(stack, page):
    account = stack.account("parent")
    title = f"Stages de printemps {uuid.uuid4().hex[:4]}"
    campaign = create_published_campaign(stack, {**lottery_campaign(OPENS_IN, title, closes_in=timedelta(hours=3)),
                                                 "waiting_room": False})
    declare_family(stack, account, "Léa", date(2016, 5, 14))
    known_to_notifications(stack, campaign)

    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/campagnes")
    card = page.locator(".cards li", has=page.get_by_role("heading", name=title))
    card.get_by_role("button", name=f"Me prévenir à l'ouverture de {title}").click()
    expect(page.get_by_text("C'est noté : vous recevrez un message à l'ouverture des inscriptions.")).to_be_visible()
    card.get_by_role("button", name=f"Me rappeler la clôture 24 h avant : {title}").click()
    expect(page.get_by_text("vous recevrez un rappel 24 heures avant la clôture")).to_be_visible()
    expect(card.get_by_text("Vous serez prévenu(e) à l'ouverture.")).to_be_visible()
    expect(card.get_by_text("Un rappel vous sera envoyé 24 heures avant la clôture.")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "parent-campagnes-prevenir")

    # Pressed again (a second tab, a double click): still one request each, nothing doubled.
    followed = stack.parent("notifications", account)
    assert [s["campaign_id"] for s in followed.get("/notifications/subscriptions").data] == [campaign["id"]]
    assert [r["campaign_id"] for r in followed.get("/notifications/closing-reminders").data] == [campaign["id"]]

    subjects = {f"Les inscriptions sont ouvertes : {title}", f"Les inscriptions ferment bientôt : {title}"}
    page.goto(f"{stack.portal}/messages")
    wait_until(reloading(page, lambda: all(any(subject in heading for heading in page.locator(".message h2")
                                                   .all_inner_texts()) for subject in subjects)),
               timeout=60, interval=2, what="the opening and the closing reminder in the inbox")
    assert axe_violations(page) == []

    # Once open, the opening is no longer offered; the reminder can be cancelled.
    page.goto(f"{stack.portal}/campagnes")
    card = page.locator(".cards li", has=page.get_by_role("heading", name=title))
    expect(card.get_by_role("button", name=f"Me prévenir à l'ouverture de {title}")).to_have_count(0)
    card.get_by_role("button", name=f"Annuler le rappel avant la clôture de {title}").click()
    expect(page.get_by_text("Le rappel avant la clôture des inscriptions est annulé.")).to_be_visible()
    assert followed.get("/notifications/closing-reminders").data == []


def test_before_the_opening_the_application_page_offers_both(stack, page):
    account = stack.account("parent")
    title = f"Stages d'été {uuid.uuid4().hex[:4]}"
    campaign = create_published_campaign(stack, {**lottery_campaign(timedelta(hours=2), title,
                                                                    closes_in=timedelta(days=3)),
                                                 "waiting_room": False})
    child_id = declare_family(stack, account, "Tom", date(2015, 1, 9))
    known_to_notifications(stack, campaign)

    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/campagnes/{campaign['id']}/enfants/{child_id}")
    page.get_by_role("button", name=f"Me prévenir à l'ouverture de {title}").click()
    assert page.url.endswith(f"/campagnes/{campaign['id']}/enfants/{child_id}")  # back where the family was
    expect(page.get_by_text("Vous serez prévenu(e) à l'ouverture.")).to_be_visible()
    page.get_by_role("button", name=f"Ne plus me prévenir de l'ouverture de {title}").click()
    expect(page.get_by_text("Vous ne recevrez pas de message à l'ouverture des inscriptions.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Me prévenir à l'ouverture de {title}")).to_be_visible()
    assert axe_violations(page) == []
    assert stack.parent("notifications", account).get("/notifications/subscriptions").data == []
