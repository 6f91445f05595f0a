"""Issue 20: a family changes its ranked choices in the browser before the close, from « Modifier mes choix » on
its applications: the same application (same id) with the new choices; a bad form is shown with its error in
French and changes nothing. axe on the form and on its errors."""
import uuid
from datetime import date, datetime, timedelta, timezone

from playwright.sync_api import expect

from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.pages import create_published_campaign, declare_family, lottery_campaign, screenshot, sign_in


def two_offers_campaign() -> dict:
    body = lottery_campaign(timedelta(seconds=3), f"Stages d'hiver {uuid.uuid4().hex[:4]}")
    body["waiting_room"] = False
    climbing = body["offers"][0]
    body["offers"].append({**climbing, "title": "Voile — découverte", "site": "Base nautique de la Villette"})
    return body


def test_a_family_changes_its_choices_before_the_close(stack, page):
    account = stack.account("parent")
    lea = declare_family(stack, account, "Léa", date(2016, 5, 14))
    registrations = stack.parent("registrations", account)
    campaign = create_published_campaign(stack, two_offers_campaign())
    climbing, sailing = (offer["id"] for offer in campaign["offers"])
    wait_until(lambda: datetime.now(timezone.utc) >= datetime.fromisoformat(campaign["opens_at"]), timeout=30,
               interval=0.2, what="the opening")
    application_id = registrations.post(
        "/applications", {"campaign_id": campaign["id"], "child_id": lea, "choices": [climbing],
                          "sworn_statement": True}, headers={"Idempotency-Key": uuid.uuid4().hex}).data["application_id"]

    def ledger_choices():
        found = next((a for a in registrations.get("/applications").data if a["application_id"] == application_id),
                     None)
        return found and found["status"] == "received" and found["choices"]
    wait_until(ledger_choices, timeout=30, interval=0.5, what="the application in the ledger")

    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/demandes")
    page.get_by_role("link", name="Modifier mes choix pour Léa Martin").click()
    expect(page.get_by_role("heading", name="Modifier les choix de Léa")).to_be_visible()
    expect(page.get_by_label("Choix n°1")).to_have_value(climbing)
    assert axe_violations(page) == []
    screenshot(page, "parent-modifier-mes-choix")

    # The same activity twice: refused, said in French next to the select, nothing changed.
    page.get_by_label("Choix n°2").select_option(climbing)
    page.get_by_role("button", name="Enregistrer mes nouveaux choix").click()
    expect(page.locator("#choice_2-erreur")).to_have_text("Cette activité est classée deux fois.")
    assert axe_violations(page) == []
    assert ledger_choices() == [climbing]

    page.get_by_label("Choix n°1").select_option(sailing)
    page.get_by_label("Choix n°2").select_option(climbing)
    page.get_by_role("button", name="Enregistrer mes nouveaux choix").click()
    expect(page.get_by_text("Vos choix sont modifiés")).to_be_visible()
    expect(page.locator(f"[data-application='{application_id}'] .meta")).to_contain_text("1. Voile — découverte")
    assert ledger_choices() == [sailing, climbing]
    history = registrations.get(f"/applications/{application_id}").data["history"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "received"), ("received", "received")]
    page.get_by_role("link", name="Modifier mes choix pour Léa Martin").click()
    expect(page.get_by_text("Choix modifiés le ")).to_be_visible()
    expect(page.get_by_label("Choix n°1")).to_have_value(sailing)
