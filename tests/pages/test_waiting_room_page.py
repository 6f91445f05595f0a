"""A family in a first-come campaign's waiting room, in a real browser: it is sent to the waiting page, sees
its position move (the page asks again when the server says, and a screen reader is not told every second), is
admitted, finds the form open with its admission token carried, and applies."""
import time
import uuid
from datetime import date, datetime, timedelta, timezone

from playwright.sync_api import expect

from services.portal.client.api import ApiError
from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.pages import create_published_campaign, declare_family, lottery_campaign, screenshot, sign_in


def test_a_family_waits_sees_its_position_move_is_admitted_and_applies(stack, page):
    body = lottery_campaign(timedelta(seconds=6), f"Mercredis loisirs {uuid.uuid4().hex[:4]}", mode="fcfs")
    body.update(waiting_room_admissions_per_minute=12)  # on by default for first-come: one family every 5 s
    campaign = create_published_campaign(stack, body)
    account = stack.account("parent")
    child_id = declare_family(stack, account, "Léa", date(2016, 5, 14))
    others = [stack.account("parent") for _ in range(3)]

    def room_known() -> bool:
        try:
            return stack.parent("registrations", account).get(f"/waiting-rooms/{campaign['id']}").data is not None
        except ApiError:
            return False
    wait_until(room_known, timeout=30, what="the campaign's room known to registrations")
    time.sleep(max(0.0, (datetime.fromisoformat(campaign["opens_at"]) - datetime.now(timezone.utc)).total_seconds() + 1))
    for other in others:  # three families arrive after the opening, before this one
        stack.parent("registrations", other).call("PUT", f"/waiting-rooms/{campaign['id']}/place")

    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/campagnes/{campaign['id']}/enfants/{child_id}")
    expect(page.get_by_role("heading", name="Salle d'attente")).to_be_visible()
    position = page.locator("[data-field=position]")
    first = int(position.inner_text())
    assert 2 <= first <= 4
    screenshot(page, "parent-salle-d-attente")
    expect(position).not_to_have_text(str(first), timeout=30_000)  # moved, without a reload
    assert int(position.inner_text()) < first
    assert page.get_by_role("status").filter(has_text="Vous êtes n°").count() == 0  # not announced within 30 s

    page.locator("#choice_1").wait_for(timeout=60_000)  # admitted: the form opened
    page.get_by_label("Choix n°1").select_option(campaign["offers"][0]["id"])
    page.get_by_label("J'atteste sur l'honneur").check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_text("Place réservée", exact=True)).to_be_visible()

    # Its managers watch the room live on the campaign's page, refreshed with the counters.
    manager_page = page.context.browser.new_context(locale="fr-FR", timezone_id="Europe/Paris").new_page()
    sign_in(manager_page, stack.portal, stack.account("manager"))
    manager_page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    room = manager_page.locator("section.room")
    expect(room.get_by_role("heading")).to_have_text("Salle d'attente — les familles sont admises")
    live = stack.manager("registrations").get(f"/waiting-rooms/{campaign['id']}/live").data
    assert live["joined"] == 4 and live["admitted"] >= 1
    expect(room).to_contain_text("sur 4")
    expect(room).to_contain_text("par minute (au plus 12)")
    assert axe_violations(manager_page) == []
    screenshot(manager_page, "gestion-salle-d-attente")
    manager_page.context.close()
