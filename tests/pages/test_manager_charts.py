"""The managers' charts on a campaign's page, drawn by the server as SVG images with their figures in words
and in the tables beside them: arrivals per minute while the window is open, then the simulation's fill rate
per offer and placement rate per priority level. axe on the page with its charts."""
import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import expect

from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.pages import create_published_campaign, declare_family, lottery_campaign, screenshot, sign_in

NBSP = "\u00a0"


def test_a_manager_reads_arrivals_fill_and_placement_rates_as_charts(stack, page):
    title = f"Stages charts {uuid.uuid4().hex[:4]}"
    body = lottery_campaign(timedelta(seconds=6), title, capacity=2, mode="priority_lottery")
    body["waiting_room"] = False
    body["policy"]["criteria"] = [{"name": "single_parent", "max_tranche": None}]
    campaign = create_published_campaign(stack, body)
    offer_id = campaign["offers"][0]["id"]
    families = {name: stack.account("parent") for name in ("Inès", "Hugo", "Nora")}
    children = {name: declare_family(stack, account, name, date(2015, 3, 1), single_parent=name == "Nora")
                for name, account in families.items()}

    def applied(name):
        try:
            stack.parent("registrations", families[name]).post(
                "/applications", {"campaign_id": campaign["id"], "child_id": children[name], "choices": [offer_id],
                                  "sworn_statement": True}, headers={"Idempotency-Key": f"{campaign['id']}-{name}"})
        except Exception:  # noqa: BLE001 - refused until the window opens
            return False
        return True
    for name in families:
        wait_until(lambda name=name: applied(name), timeout=40, interval=0.5, what=f"{name}'s application")

    manager = stack.account("manager")
    sign_in(page, stack.portal, manager)
    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    arrivals = page.locator("#compteurs svg[role=img]")
    expect(arrivals).to_have_attribute("aria-label", re.compile(r"^Demandes reçues par minute — "))
    counters = stack.manager("registrations").get(f"/applications/counters/{campaign['id']}").data
    assert sum(m["received"] for m in counters["per_minute"]) == 3
    expect(arrivals.locator("rect")).to_have_count(len(counters["per_minute"][-10:]))
    expect(page.get_by_role("table", name="Par minute (heure de Paris)")).to_be_visible()  # the figures
    assert axe_violations(page) == []

    campaigns, allocation = stack.manager("campaigns"), stack.manager("allocation")
    campaigns.post(f"/campaigns/{campaign['id']}/close-early",
                   headers={"If-Match": campaigns.get(f"/campaigns/{campaign['id']}").headers["ETag"]})
    wait_until(lambda: allocation.get(f"/campaigns/{campaign['id']}/allocation").data["closed_at"], timeout=30,
               what="allocation told of the close")
    wait_until(lambda: allocation.post(f"/campaigns/{campaign['id']}/allocation/dry-run")
               .data["statistics"]["applications"] == 3, timeout=30, what="the three applications in allocation")

    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    fill = page.get_by_role("img", name=f"Taux de remplissage par activité — Escalade — initiation : 100{NBSP}%.")
    expect(fill).to_be_visible()
    # The single parent's child is of the first level (placed); one of the two others is placed by lot.
    expect(page.get_by_role("img", name=f"Taux de placement par niveau de priorité — Niveau 1 : 100{NBSP}%; "
                                        f"Niveau 2 : 50{NBSP}%.")).to_be_visible()
    expect(page.get_by_role("table", name="Simulation — par niveau de priorité")).to_contain_text("50 %")
    screenshot(page, "gestion-graphiques")
    assert axe_violations(page) == []
