"""A city agent at the counter (issue 16, item 1): signs in to the portal, finds a family by its child's name and
birth date, accepts the place offered to it with a motif (an empty motif refused next to its field, nothing
changed), corrects its household with a motif; the parent then reads « fait par un agent, le …, motif : … » on its
applications. An agent applies for a family's child (issue 16's page test): the parent sees the application, who
made it and why, and a message. axe on every agents' page, with and without errors."""
import random
import string
import uuid
from datetime import date, datetime, timedelta, timezone

from playwright.sync_api import expect

from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.pages import (
    create_published_campaign,
    declare_family,
    lottery_campaign,
    reloading,
    screenshot,
    sign_in,
)

ACCEPTED_BECAUSE = "La mère est venue au guichet de la mairie du 11e, sans accès à internet."
CORRECTED_BECAUSE = "Attestation CAF présentée au guichet : tranche 2."


def assert_accessible(page, name: str) -> None:
    found = axe_violations(page)
    assert found == [], f"{name} ({page.url}):\n" + "\n".join(found)


def test_an_agent_finds_a_family_accepts_its_place_and_corrects_its_household_and_the_family_sees_it(
        stack, page, browser):
    parent = stack.account("parent")
    first_name = "Zoé" + "".join(random.choices(string.ascii_lowercase, k=8))  # this test's child alone
    born = date(2016, 3, 9)
    body = lottery_campaign(timedelta(seconds=4), f"Mercredis au guichet {uuid.uuid4().hex[:4]}", mode="fcfs")
    body["waiting_room"] = False
    campaign = create_published_campaign(stack, body)
    child_id = declare_family(stack, parent, first_name, born)
    registrations = stack.parent("registrations", parent)
    wait_until(lambda: datetime.now(timezone.utc) >= datetime.fromisoformat(campaign["opens_at"]), timeout=30,
               interval=0.2, what="the opening")
    application_id = registrations.post(
        "/applications", {"campaign_id": campaign["id"], "child_id": child_id,
                          "choices": [campaign["offers"][0]["id"]], "sworn_statement": True},
        headers={"Idempotency-Key": uuid.uuid4().hex}).data["application_id"]

    def status_of(wanted: str) -> bool:
        return any(a["application_id"] == application_id and a["status"] == wanted
                   for a in registrations.get("/applications").data)
    wait_until(lambda: status_of("allocated"), timeout=30, interval=0.5, what="the first-come place offered")

    sign_in(page, stack.portal, stack.account("agent"))
    expect(page.get_by_role("heading", name="Rechercher une famille")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Rechercher une famille")
           ).to_be_visible()
    assert_accessible(page, "accueil-recherche")

    # A name without its birth date: the field to complete is named.
    page.get_by_label("Prénom, nom, ou les deux").fill(first_name)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#birth_date-erreur")).to_contain_text("date de naissance")
    assert_accessible(page, "accueil-recherche-erreur")
    page.get_by_label("Date de naissance").fill(born.isoformat())
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="1 famille trouvée")).to_be_visible()
    assert_accessible(page, "accueil-recherche-resultats")
    page.get_by_role("link", name=f"Famille {parent.subject}").click()

    expect(page.get_by_role("heading", name=f"Famille {parent.subject}")).to_be_visible()
    card = page.locator(f"[data-application='{application_id}']")
    expect(card).to_contain_text(f"{first_name} Martin — {campaign['title']}")
    expect(card).to_contain_text("place proposée")
    assert_accessible(page, "accueil-famille")
    screenshot(page, "agent-famille")

    # Accepting for the family: without a motif, the API's 422 next to the field, and nothing changes.
    card.get_by_role("link", name=f"Voir et agir pour la demande de {first_name} Martin").click()
    page.get_by_label("Accepter la place proposée").check()
    page.get_by_role("button", name="Valider pour la famille").click()
    expect(page.locator("#reason-erreur")).to_have_text("Indiquez le motif, que la famille lira : de 3 à 500 caractères.")
    expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Accepter la place proposée")).to_be_checked()
    assert status_of("allocated")
    assert_accessible(page, "accueil-demande-motif-manquant")
    page.get_by_label("Motif").fill(ACCEPTED_BECAUSE)
    page.get_by_role("button", name="Valider pour la famille").click()
    expect(page.get_by_text("La place est acceptée pour la famille : l'inscription est confirmée.")).to_be_visible()
    assert status_of("confirmed")
    expect(card).to_contain_text("place confirmée")
    card.get_by_role("link", name=f"Voir et agir pour la demande de {first_name} Martin").click()
    expect(page.locator(".history")).to_contain_text(f"fait par un agent, motif : {ACCEPTED_BECAUSE}")
    assert_accessible(page, "accueil-demande")
    page.get_by_role("link", name=f"Retour à la famille {parent.subject}").click()

    # Correcting the household: the motif required again, then the facts saved as the agent typed them.
    page.get_by_role("link", name="Corriger le foyer").click()
    expect(page.get_by_label("Tranche de quotient familial")).to_have_value("3")
    assert_accessible(page, "accueil-foyer")
    page.get_by_label("Tranche de quotient familial").select_option("2")
    page.get_by_role("button", name="Enregistrer pour la famille").click()
    expect(page.locator("#reason-erreur")).to_be_visible()
    expect(page.get_by_label("Tranche de quotient familial")).to_have_value("2")  # what was typed is kept
    assert registrations.get("/household").data["quotient_tranche"] == 3
    assert_accessible(page, "accueil-foyer-motif-manquant")
    page.get_by_label("Motif").fill(CORRECTED_BECAUSE)
    page.get_by_role("button", name="Enregistrer pour la famille").click()
    expect(page.get_by_text("Le foyer de la famille est corrigé.")).to_be_visible()
    assert registrations.get("/household").data["quotient_tranche"] == 2

    # The family reads who accepted for it, when, and why.
    family = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        family_page = family.new_page()
        sign_in(family_page, stack.portal, parent)
        family_page.goto(f"{stack.portal}/demandes")
        line = family_page.locator(f"[data-application='{application_id}'] .by-agent")
        expect(line).to_have_count(1)
        expect(line).to_contain_text("Place confirmée : fait par un agent, le ")
        expect(line).to_contain_text(f", motif : {ACCEPTED_BECAUSE}")
        assert_accessible(family_page, "mes-demandes-fait-par-un-agent")
        screenshot(family_page, "parent-fait-par-un-agent")
    finally:
        family.close()


def test_an_unknown_family_and_a_family_on_the_agents_pages(stack, page, browser):
    sign_in(page, stack.portal, stack.account("agent"))
    answer = page.goto(f"{stack.portal}/accueil/familles/family-nobody-{uuid.uuid4().hex[:6]}")
    assert answer.status == 404
    expect(page.locator(".problem")).to_have_text("Aucune famille n'a ce compte ici (ni foyer déclaré, ni demande).")
    assert_accessible(page, "accueil-famille-inconnue")
    page.goto(f"{stack.portal}/accueil?email=pas-une-adresse")
    expect(page.locator("#email-erreur")).to_be_visible()

    parent = stack.account("parent")
    family = browser.new_context()
    try:
        family_page = family.new_page()
        sign_in(family_page, stack.portal, parent)
        assert family_page.goto(f"{stack.portal}/accueil").status == 403
    finally:
        family.close()


APPLIED_BECAUSE = "Le père est venu au guichet de la mairie du 11e avec le livret de famille."


def test_an_agent_finds_a_family_applies_for_its_child_and_the_parent_sees_who_made_the_application(
        stack, page, browser):
    parent = stack.account("parent")
    first_name = "Noé" + "".join(random.choices(string.ascii_lowercase, k=8))
    child_id = declare_family(stack, parent, first_name, date(2015, 11, 2))
    body = lottery_campaign(timedelta(seconds=3), f"Stages au guichet {uuid.uuid4().hex[:4]}")
    body["waiting_room"] = False
    campaign = create_published_campaign(stack, body)
    registrations = stack.parent("registrations", parent)
    wait_until(lambda: datetime.now(timezone.utc) >= datetime.fromisoformat(campaign["opens_at"]), timeout=30,
               interval=0.2, what="the opening")

    sign_in(page, stack.portal, stack.account("agent"))
    page.get_by_label("Compte de la famille").fill(parent.subject)
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name=f"Famille {parent.subject}").click()
    page.get_by_role("link", name=f"Faire une demande pour {first_name} Martin").click()
    expect(page.get_by_role("heading", name=f"Faire une demande pour {first_name} Martin")).to_be_visible()
    assert_accessible(page, "accueil-demande-campagnes")
    page.get_by_role("link", name=campaign["title"]).click()
    expect(page.get_by_role("heading", name=campaign["title"])).to_be_visible()
    assert_accessible(page, "accueil-demande-formulaire")

    # Without a motif: refused next to its field, what was chosen kept, and nothing recorded.
    page.get_by_label("Choix n°1").select_option(campaign["offers"][0]["id"])
    page.get_by_label("La famille atteste sur l'honneur").check()
    page.get_by_role("button", name="Envoyer la demande pour la famille").click()
    expect(page.locator("#reason-erreur")).to_have_text("Indiquez le motif, que la famille lira : de 3 à 500 caractères.")
    expect(page.get_by_label("Choix n°1")).to_have_value(campaign["offers"][0]["id"])
    expect(page.get_by_label("La famille atteste sur l'honneur")).to_be_checked()
    assert_accessible(page, "accueil-demande-motif-manquant")
    assert registrations.get("/applications").data == []

    page.get_by_label("Motif").fill(APPLIED_BECAUSE)
    page.get_by_role("button", name="Envoyer la demande pour la famille").click()
    expect(page.get_by_text("La demande est envoyée pour la famille.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Famille {parent.subject}")).to_be_visible()

    def listed():
        return [a for a in registrations.get("/applications").data if a["child_id"] == child_id]
    wait_until(listed, timeout=30, interval=0.5, what="the agent's application in the family's ledger")
    (application,) = listed()
    assert application["applied_by_agent"] is True
    card = page.locator(f"[data-application='{application['application_id']}']")
    wait_until(reloading(page, lambda: card.count() == 1), timeout=30, interval=0.5, what="the application listed")
    card.get_by_role("link", name=f"Voir et agir pour la demande de {first_name} Martin").click()
    expect(page.locator(".history")).to_contain_text(f"fait par un agent, motif : {APPLIED_BECAUSE}")

    # The family: the application in « Mes demandes », who made it, when and why; and a message saying so.
    family = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        family_page = family.new_page()
        sign_in(family_page, stack.portal, parent)
        family_page.goto(f"{stack.portal}/demandes")
        mine = family_page.locator(f"[data-application='{application['application_id']}']")
        expect(mine).to_contain_text(f"{first_name} Martin — {campaign['title']}")
        line = mine.locator(".by-agent")
        expect(line).to_have_count(1)
        expect(line).to_contain_text("Demande déposée : fait par un agent, le ")
        expect(line).to_contain_text(f", motif : {APPLIED_BECAUSE}")
        assert_accessible(family_page, "mes-demandes-deposee-par-un-agent")
        screenshot(family_page, "parent-demande-deposee-par-un-agent")
        family_page.goto(f"{stack.portal}/messages")
        subject = f"Demande déposée pour {first_name} Martin par un agent de la Ville"
        wait_until(reloading(family_page, lambda: family_page.get_by_text(subject).count() > 0), timeout=60,
                   interval=1, what="the family's message about the agent's application")
    finally:
        family.close()


def test_an_agent_applies_through_the_familys_place_in_a_first_come_campaigns_waiting_room(stack, page):
    parent = stack.account("parent")
    first_name = "Ilan" + "".join(random.choices(string.ascii_lowercase, k=8))
    child_id = declare_family(stack, parent, first_name, date(2016, 6, 1))
    # A first-come campaign has its waiting room on by default: the agent is held to it as the family would be.
    campaign = create_published_campaign(stack, lottery_campaign(
        timedelta(seconds=3), f"Mercredis en salle d'attente {uuid.uuid4().hex[:4]}", mode="fcfs"))
    registrations = stack.parent("registrations", parent)
    wait_until(lambda: datetime.now(timezone.utc) >= datetime.fromisoformat(campaign["opens_at"]), timeout=30,
               interval=0.2, what="the opening")

    sign_in(page, stack.portal, stack.account("agent"))
    page.goto(f"{stack.portal}/accueil/familles/{parent.subject}/enfants/{child_id}/demande?campagne={campaign['id']}")
    page.get_by_label("Choix n°1").select_option(campaign["offers"][0]["id"])
    page.get_by_label("La famille atteste sur l'honneur").check()
    page.get_by_label("Motif").fill(APPLIED_BECAUSE)
    page.get_by_role("button", name="Envoyer la demande pour la famille").click()
    # The room was empty: the family's place admitted at once, and the application sent with its token.
    expect(page.get_by_text("Place réservée")).to_be_visible()
    place = registrations.get(f"/waiting-rooms/{campaign['id']}/place").data
    assert place["state"] == "admitted", place
    wait_until(lambda: [a for a in registrations.get("/applications").data if a["child_id"] == child_id],
               timeout=30, interval=0.5, what="the agent's application in the family's ledger")
