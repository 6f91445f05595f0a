"""A city agent adds, corrects and removes a family's child at the counter (issue 16, item 1), each with a motif: an
empty motif refused next to its field with what was typed kept and nothing changed; the family then reads each
change in « Historique de mon foyer », « fait par un agent, le …, motif : … », beside its own. axe on each page."""
from __future__ import annotations

import random
import string
from datetime import date

from playwright.sync_api import expect

from tests.support.accessibility import axe_violations
from tests.support.pages import declare_family, screenshot, sign_in

ADDED_BECAUSE = "Livret de famille présenté au guichet : naissance de la petite sœur."
CHANGED_BECAUSE = "Certificat de scolarité présenté au guichet."
REMOVED_BECAUSE = "Enfant confié à l'autre parent, jugement présenté au guichet."
REASON_REQUIRED = "Indiquez le motif, que la famille lira : de 3 à 500 caractères."


def assert_accessible(page, name: str) -> None:
    found = axe_violations(page)
    assert found == [], f"{name} ({page.url}):\n" + "\n".join(found)


def test_an_agent_adds_corrects_and_removes_a_child_and_the_family_reads_it_in_its_history(stack, page, browser):
    parent = stack.account("parent")
    elder = "Sacha" + "".join(random.choices(string.ascii_lowercase, k=6))
    younger = "Mia" + "".join(random.choices(string.ascii_lowercase, k=6))
    declare_family(stack, parent, elder, date(2014, 4, 4))
    registrations = stack.parent("registrations", parent)

    def children() -> dict[str, dict]:
        return {c["first_name"]: c for c in registrations.get("/household").data["children"]}

    sign_in(page, stack.portal, stack.account("agent"))
    page.goto(f"{stack.portal}/accueil/familles/{parent.subject}")
    page.get_by_role("link", name="Ajouter un enfant").click()
    expect(page.get_by_role("heading", name=f"Ajouter un enfant au foyer de la famille {parent.subject}")).to_be_visible()
    assert_accessible(page, "accueil-enfant-nouveau")

    # Without a motif: refused next to the field, the names typed kept, nobody added.
    page.get_by_label("Prénom").fill(younger)
    page.locator("#last_name").fill("Martin")
    page.get_by_label("Date de naissance").fill("2019-10-12")
    page.get_by_role("button", name="Enregistrer pour la famille").click()
    expect(page.locator("#reason-erreur")).to_have_text(REASON_REQUIRED)
    expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Prénom")).to_have_value(younger)
    assert set(children()) == {elder}
    assert_accessible(page, "accueil-enfant-nouveau-motif-manquant")
    page.get_by_label("Motif").fill(ADDED_BECAUSE)
    page.get_by_role("button", name="Enregistrer pour la famille").click()
    expect(page.get_by_text(f"{younger} Martin est ajouté(e) au foyer de la famille.")).to_be_visible()
    assert children()[younger]["birth_date"] == "2019-10-12"

    # Correcting her: the school set, the rest kept.
    page.get_by_role("link", name=f"Corriger la fiche de {younger} Martin").click()
    expect(page.get_by_label("Date de naissance")).to_have_value("2019-10-12")
    assert_accessible(page, "accueil-enfant-modifier")
    page.get_by_label("École").fill("École maternelle Parmentier")
    page.get_by_label("Motif").fill(CHANGED_BECAUSE)
    page.get_by_role("button", name="Enregistrer pour la famille").click()
    expect(page.get_by_text(f"{younger} Martin : la fiche de l'enfant est corrigée.")).to_be_visible()
    assert (children()[younger]["school"], children()[younger]["birth_date"]) == (
        "École maternelle Parmentier", "2019-10-12")

    # Removing the elder: the motif asked for, then done.
    page.get_by_role("link", name=f"Retirer du foyer {elder} Martin").click()
    expect(page.get_by_role("heading", name=f"Retirer {elder} Martin du foyer")).to_be_visible()
    assert_accessible(page, "accueil-enfant-retrait")
    page.get_by_role("button", name="Retirer l'enfant du foyer").click()
    expect(page.locator("#reason-erreur")).to_have_text(REASON_REQUIRED)
    assert elder in children()
    assert_accessible(page, "accueil-enfant-retrait-motif-manquant")
    page.get_by_label("Motif").fill(REMOVED_BECAUSE)
    page.get_by_role("button", name="Retirer l'enfant du foyer").click()
    expect(page.get_by_text(f"{elder} Martin est retiré(e) du foyer de la famille.")).to_be_visible()
    assert set(children()) == {younger}

    # The family: each change, newest first, by an agent with its motif; its own declaration by itself.
    family = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        family_page = family.new_page()
        sign_in(family_page, stack.portal, parent)
        family_page.goto(f"{stack.portal}/historique")
        by_agent = family_page.locator(".change.by-agent")
        expect(by_agent).to_have_count(3)
        expect(by_agent.nth(0)).to_contain_text(f"Enfant retiré du foyer — {elder} Martin")  # named though gone
        expect(by_agent.nth(0).locator(".by")).to_contain_text(f", motif : {REMOVED_BECAUSE}")
        expect(by_agent.nth(1)).to_contain_text(f"Enfant modifié — {younger} Martin")
        expect(by_agent.nth(1)).to_contain_text("Modifié : école.")
        expect(by_agent.nth(1).locator(".by")).to_contain_text("Fait par un agent, le ")
        expect(by_agent.nth(1).locator(".by")).to_contain_text(f", motif : {CHANGED_BECAUSE}")
        expect(by_agent.nth(2)).to_contain_text(f"Enfant ajouté — {younger} Martin")
        expect(by_agent.nth(2).locator(".by")).to_contain_text(f", motif : {ADDED_BECAUSE}")
        expect(family_page.locator(".change.by-family").filter(has_text="Foyer déclaré").locator(".by")
               ).to_contain_text("Fait par vous, le ")
        assert_accessible(family_page, "historique-fait-par-un-agent")
        screenshot(family_page, "parent-historique")
    finally:
        family.close()
