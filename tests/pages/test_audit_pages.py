"""The audit trails' pages (issue 16, item 3): an agent reads what was done for a family, a manager what was done to
a campaign — who, for whom, what, before → after — filters them by time and actor (a wrong filter named next to
its field), and exports them as CSV with the same filters. axe on each page, with and without errors."""
import uuid
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.support.accessibility import axe_violations
from tests.support.pages import declare_family, lottery_campaign, sign_in

CORRECTED_BECAUSE = "Attestation CAF présentée au guichet : tranche 2."


def assert_accessible(page, name: str) -> None:
    found = axe_violations(page)
    assert found == [], f"{name} ({page.url}):\n" + "\n".join(found)


def filter_by(page, *, since: str = "", until: str = "", actor: str = "") -> None:
    page.get_by_label("Depuis le").fill(since)
    page.get_by_label("Jusqu'au").fill(until)
    page.get_by_label("Qui (compte de la personne)").fill(actor)
    page.get_by_role("button", name="Filtrer").click()


def exported(page, portal: str) -> str:
    """The CSV export the page links to, fetched with the page's session."""
    answer = page.request.get(portal + page.get_by_role("link", name="Exporter ces entrées (CSV)").get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    return answer.text()


def test_an_agent_reads_filters_and_exports_a_familys_audit_trail(stack, page):
    parent, agent = stack.account("parent"), stack.account("agent")
    declare_family(stack, parent, "Lina", date(2016, 1, 20))
    by_agent = stack.client("registrations", agent)
    family = f"/agent/families/{parent.subject}/household"
    by_agent.call("PUT", family, headers={"If-Match": by_agent.get(family).headers["ETag"]}, body={
        "single_parent": False, "quotient_tranche": 2, "quotient_justified_on": "2026-09-30", "arrondissement": 11,
        "postal_mail": False, "email": None, "language": "fr", "reason": CORRECTED_BECAUSE})

    sign_in(page, stack.portal, agent)
    page.goto(f"{stack.portal}/accueil/familles/{parent.subject}")
    page.get_by_role("link", name="Journal des actions pour la famille").click()
    expect(page.get_by_role("heading", name=f"Journal des actions pour la famille {parent.subject}")).to_be_visible()
    # The family's own writes are on its trail too (its declaration, its child): the agent's correction among them.
    entry = page.locator("tr[data-seq]", has_text="household.correct")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(f"{agent.subject} (agent de la Ville), pour la famille {parent.subject}")
    expect(entry).to_contain_text("quotient_tranche : 3 → 2")
    expect(entry).to_contain_text(CORRECTED_BECAUSE)
    assert_accessible(page, "accueil-journal")
    csv = exported(page, stack.portal)
    assert csv.splitlines()[0].startswith("seq,occurred_at,actor_subject") and agent.subject in csv

    filter_by(page, actor=agent.subject)
    expect(page.get_by_role("heading", name="1 entrée")).to_be_visible()
    assert len(exported(page, stack.portal).splitlines()) == 2  # the export keeps the page's filters
    filter_by(page, actor=f"someone-else-{uuid.uuid4().hex[:6]}")
    expect(page.get_by_role("heading", name="Aucune entrée")).to_be_visible()
    assert exported(page, stack.portal).splitlines()[1:] == []
    filter_by(page, since="2030-01-01T00:00")
    expect(page.get_by_role("heading", name="Aucune entrée")).to_be_visible()
    filter_by(page, since="2026-01-01T00:00", actor=agent.subject)
    expect(page.get_by_role("heading", name="1 entrée")).to_be_visible()

    # `until` before `since`: the API's refusal, said next to the field, and no list.
    filter_by(page, since="2026-03-01T10:00", until="2026-03-01T09:00")
    expect(page.locator("#jusqu_au-erreur")).to_contain_text("après « depuis »")
    expect(page.locator("#jusqu_au")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("tr[data-seq]")).to_have_count(0)
    assert_accessible(page, "accueil-journal-filtre-errone")

    # A family on the agents' pages: refused.
    sign_in_as_family = page.context.browser.new_context()
    try:
        family_page = sign_in_as_family.new_page()
        sign_in(family_page, stack.portal, parent)
        assert family_page.goto(f"{stack.portal}/accueil/familles/{parent.subject}/journal").status == 403
    finally:
        sign_in_as_family.close()


def test_a_manager_reads_filters_and_exports_a_campaigns_audit_trail(stack, page):
    manager = stack.account("manager")
    campaigns = stack.client("campaigns", manager)
    created = campaigns.post("/campaigns", lottery_campaign(timedelta(hours=2), f"Journal {uuid.uuid4().hex[:4]}",
                                                            closes_in=timedelta(hours=4)),
                             headers={"Idempotency-Key": uuid.uuid4().hex})
    campaign = created.data
    campaigns.post(f"/campaigns/{campaign['id']}/publish", headers={"If-Match": created.headers["ETag"]})

    sign_in(page, stack.portal, manager)
    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    page.get_by_role("link", name="Journal des modifications de la campagne").click()
    expect(page.get_by_role("heading", name="Journal des modifications de la campagne")).to_be_visible()
    rows = page.locator("tr[data-seq]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(f"{manager.subject} (gestionnaire)")
    expect(rows.first).to_contain_text("campaign.create")
    expect(rows.nth(1)).to_contain_text("campaign.publish")
    assert_accessible(page, "gestion-journal")
    csv = exported(page, stack.portal)
    assert len(csv.splitlines()) == 3 and manager.subject in csv

    filter_by(page, actor=f"someone-else-{uuid.uuid4().hex[:6]}")
    expect(page.get_by_role("heading", name="Aucune entrée")).to_be_visible()
    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}/journal?depuis=pas-une-date")
    expect(page.locator("#depuis-erreur")).to_have_text("Indiquez une date et une heure complètes.")
    assert_accessible(page, "gestion-journal-filtre-errone")

    missing = page.goto(f"{stack.portal}/gestion/campagnes/{uuid.uuid4()}/journal")
    assert missing.status == 404
