"""Supporting documents in the portal (issue 16, item 4): a parent sends a quotient document from « Mes
justificatifs » (a text file named .pdf refused by its content, said in French next to the field, nothing stored);
a city agent finds the family, opens the document (the same bytes, an attachment never sniffed) and validates tranche
2 from a date with a motif (an empty motif refused next to its field, nothing changed); the parent then reads
« validé le …, à compter du … » under the document, and the agent's motif in « Historique de mon foyer ». A file of
5 MB goes through the portal; one byte past registrations' 5 MiB is refused in French. A parent deletes a
document, but not one a validation rests on (the refusal in French). The history reads 20 changes a page. axe on
every page, with its errors."""
from __future__ import annotations

import random
import string
from datetime import date, datetime, timezone

from playwright.sync_api import expect

from shared.domain.paris import paris_day
from shared.formatting import long_date
from tests.support.accessibility import axe_violations
from tests.support.documents import PDF, PNG
from tests.support.pages import declare_family, screenshot, sign_in

VALIDATED_BECAUSE = "Avis d'imposition 2026 présenté au guichet de la mairie du 11e."
FIVE_MIB = 5 * 1024 * 1024  # registrations' exact limit (the form says « 5 Mo »)


def assert_accessible(page, name: str) -> None:
    found = axe_violations(page)
    assert found == [], f"{name} ({page.url}):\n" + "\n".join(found)


def pdf_of(size: int) -> bytes:
    return (PDF + b"%" * size)[:size]


def test_a_parent_sends_a_quotient_document_an_agent_validates_it_and_the_parent_sees_it_validated(
        stack, page, browser):
    parent = stack.account("parent")
    first_name = "Inès" + "".join(random.choices(string.ascii_lowercase, k=8))
    declare_family(stack, parent, first_name, date(2016, 2, 3))  # tranche 3, declared
    registrations = stack.parent("registrations", parent)

    sign_in(page, stack.portal, parent)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes justificatifs").click()
    expect(page.get_by_role("heading", name="Mes justificatifs", level=1)).to_be_visible()
    # The limits are said before a file is chosen.
    expect(page.locator("#document-aide")).to_have_text(
        "Un fichier PDF, ou une image JPEG ou PNG, de 5 Mo au plus. Une photo nette de la page entière suffit.")
    expect(page.get_by_text("Aucun justificatif envoyé.")).to_be_visible()
    assert_accessible(page, "justificatifs-vide")

    # A text file renamed .pdf: refused by its content, said next to the field, nothing stored.
    page.get_by_label("Ce justificatif concerne").select_option("quotient_tranche")
    page.get_by_label("Fichier").set_input_files(
        {"name": "avis.pdf", "mimeType": "application/pdf", "buffer": b"Mon avis d'imposition, en texte.\n"})
    page.get_by_role("button", name="Envoyer le justificatif").click()
    expect(page.locator("#document-erreur")).to_contain_text("Ce fichier n'est ni un PDF, ni une image JPEG ou PNG")
    expect(page.locator("#document")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Ce justificatif concerne")).to_have_value("quotient_tranche")  # the choice kept
    assert registrations.get("/household/documents").data == []
    assert_accessible(page, "justificatifs-type-refuse")
    screenshot(page, "parent-justificatif-refuse")

    # A real PDF: stored, listed as waiting for an agent.
    page.get_by_label("Fichier").set_input_files({"name": "avis-2026.pdf", "mimeType": "application/pdf",
                                                  "buffer": PDF})
    page.get_by_role("button", name="Envoyer le justificatif").click()
    expect(page.get_by_text("Votre justificatif est envoyé.")).to_be_visible()
    (document,) = registrations.get("/household/documents").data
    assert (document["fact"], document["filename"], document["media_type"]) == (
        "quotient_tranche", "avis-2026.pdf", "application/pdf")
    card = page.locator(f"[data-document='{document['document_id']}']")
    expect(card.get_by_role("heading")).to_have_text("Quotient familial")
    expect(card).to_contain_text("avis-2026.pdf — PDF")
    expect(card.locator(".pending")).to_have_text("Pas encore validé par un agent.")
    assert_accessible(page, "justificatifs-envoye")
    # Read back through the portal: the same bytes, an attachment of its real type, never sniffed.
    answer = page.request.get(f"{stack.portal}/justificatifs/{document['document_id']}/fichier")
    assert answer.status == 200 and answer.body() == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == f'attachment; filename="justificatif-{document["document_id"]}.pdf"'
    assert answer.headers["x-content-type-options"] == "nosniff"
    with page.expect_download() as downloading:
        card.get_by_role("link", name="Télécharger").click()
    assert open(downloading.value.path(), "rb").read() == PDF

    # The agent: finds the family, opens its document, validates tranche 2 from the first of the month.
    effective = date.today().replace(day=1)
    agent = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        counter = agent.new_page()
        sign_in(counter, stack.portal, stack.account("agent"))
        counter.get_by_label("Compte de la famille").fill(parent.subject)
        counter.get_by_role("button", name="Rechercher").click()
        counter.get_by_role("link", name=f"Famille {parent.subject}").click()
        counter.get_by_role("link", name="Justificatifs et faits validés").click()
        expect(counter.get_by_role("heading", name=f"Justificatifs de la famille {parent.subject}")).to_be_visible()
        quotient = counter.locator("[data-fact='quotient_tranche']")
        expect(quotient).to_contain_text("tranche 3")
        expect(quotient).to_contain_text("déclaré par la famille, pas encore validé")
        assert_accessible(counter, "accueil-justificatifs")
        held = counter.locator(f"[data-document='{document['document_id']}']")
        with counter.expect_download() as downloading:
            held.get_by_role("link", name="Ouvrir").click()
        assert open(downloading.value.path(), "rb").read() == PDF
        held.get_by_role("link", name="Valider un fait").click()
        expect(counter.get_by_role("heading", name="Quotient familial", level=2)).to_be_visible()
        expect(counter.get_by_label("Tranche que montre le justificatif")).to_have_value("3")
        assert_accessible(counter, "accueil-validation")
        counter.get_by_label("Tranche que montre le justificatif").select_option("2")
        counter.get_by_label("À compter du").fill(effective.isoformat())
        counter.get_by_role("button", name="Valider pour la famille").click()
        expect(counter.locator("#reason-erreur")).to_have_text(
            "Indiquez le motif, que la famille lira : de 3 à 500 caractères.")
        expect(counter.get_by_label("Tranche que montre le justificatif")).to_have_value("2")  # kept
        expect(counter.get_by_label("À compter du")).to_have_value(effective.isoformat())
        assert registrations.get("/household").data["quotient_tranche"] == 3
        assert_accessible(counter, "accueil-validation-motif-manquant")
        counter.get_by_label("Motif").fill(VALIDATED_BECAUSE)
        counter.get_by_role("button", name="Valider pour la famille").click()
        expect(counter.get_by_text(f"Quotient familial : tranche 2, validé pour la famille, à compter du "
                                   f"{long_date(effective, 'fr')}.")).to_be_visible()
        expect(quotient).to_contain_text("validé par un agent")
        expect(quotient).to_contain_text(f"à compter du {long_date(effective, 'fr')}")
        screenshot(counter, "agent-justificatifs")
    finally:
        agent.close()
    household = registrations.get("/household").data
    assert household["quotient_tranche"] == 2
    (state,) = [f for f in household["facts"] if f["fact"] == "quotient_tranche"]
    assert (state["status"], state["effective_from"], state["document_id"]) == (
        "validated", effective.isoformat(), document["document_id"])

    # The parent: the document now supports the validated tranche, and is kept (no delete button).
    page.reload()
    expect(card.locator(".validated")).to_contain_text("Quotient familial : tranche 2 — validé le ")
    expect(card.locator(".validated")).to_contain_text(f", à compter du {long_date(effective, 'fr')}.")
    expect(card.get_by_role("button", name="Supprimer")).to_have_count(0)
    assert_accessible(page, "justificatifs-valide")
    screenshot(page, "parent-justificatif-valide")

    # Its history: the validation by an agent with the motif, the upload by the family.
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Historique").click()
    expect(page.get_by_role("heading", name="Historique de mon foyer")).to_be_visible()
    validated = page.locator(".change.by-agent").first
    expect(validated).to_contain_text("Fait validé sur justificatif")
    expect(validated.locator(".by")).to_contain_text("Fait par un agent, le ")
    expect(validated.locator(".by")).to_contain_text(f", motif : {VALIDATED_BECAUSE}")
    expect(page.locator(".change.by-family").filter(has_text="Justificatif envoyé")).to_have_count(1)
    assert_accessible(page, "historique")


def test_a_five_mb_document_goes_through_the_portal_and_one_past_the_limit_is_refused_in_french(
        stack, page, browser):
    parent = stack.account("parent")
    declare_family(stack, parent, "Lou", date(2015, 9, 9))
    registrations = stack.parent("registrations", parent)
    sign_in(page, stack.portal, parent)
    page.goto(f"{stack.portal}/justificatifs")

    page.get_by_label("Ce justificatif concerne").select_option("single_parent")
    page.get_by_label("Fichier").set_input_files({"name": "caf.pdf", "mimeType": "application/pdf",
                                                  "buffer": pdf_of(FIVE_MIB + 1)})
    page.get_by_role("button", name="Envoyer le justificatif").click()
    expect(page.locator("#document-erreur")).to_contain_text("Ce fichier dépasse 5 Mo")
    assert registrations.get("/household/documents").data == []
    assert_accessible(page, "justificatifs-trop-lourd")
    # Past what the portal reads of a form (5 MiB + 64 KiB): refused before the form is read, the same words.
    page.get_by_label("Ce justificatif concerne").select_option("single_parent")
    page.get_by_label("Fichier").set_input_files({"name": "scan.pdf", "mimeType": "application/pdf",
                                                  "buffer": pdf_of(6 * 1024 * 1024)})
    page.get_by_role("button", name="Envoyer le justificatif").click()
    expect(page.locator("#document-erreur")).to_contain_text("Ce fichier dépasse 5 Mo")
    assert registrations.get("/household/documents").data == []

    # Without a file: named, nothing sent.
    page.get_by_role("button", name="Envoyer le justificatif").click()
    expect(page.locator("#document-erreur")).to_have_text("Choisissez le fichier à envoyer.")

    page.get_by_label("Ce justificatif concerne").select_option("single_parent")
    page.get_by_label("Fichier").set_input_files({"name": "caf.pdf", "mimeType": "application/pdf",
                                                  "buffer": pdf_of(FIVE_MIB)})
    page.get_by_role("button", name="Envoyer le justificatif").click()
    expect(page.get_by_text("Votre justificatif est envoyé.")).to_be_visible()
    (document,) = registrations.get("/household/documents").data
    assert (document["fact"], document["size_bytes"]) == ("single_parent", FIVE_MIB)
    expect(page.locator(f"[data-document='{document['document_id']}']")).to_contain_text("caf.pdf — PDF, 5,0 Mo")

    # An agent validates the single-parent status it was sent for (a yes or no), the fact's default.
    agent = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        counter = agent.new_page()
        sign_in(counter, stack.portal, stack.account("agent"))
        counter.goto(f"{stack.portal}/accueil/familles/{parent.subject}/justificatifs/{document['document_id']}"
                     "/validation")
        expect(counter.get_by_role("heading", name="Famille monoparentale", level=2)).to_be_visible()
        expect(counter.get_by_label("Non")).to_be_checked()  # as declared
        assert_accessible(counter, "accueil-validation-oui-non")
        counter.get_by_label("Oui").check()
        counter.get_by_label("Motif").fill(VALIDATED_BECAUSE)
        counter.get_by_role("button", name="Valider pour la famille").click()
        expect(counter.get_by_text("Famille monoparentale : oui, validé pour la famille, à compter du ")).to_be_visible()
    finally:
        agent.close()
    # « À compter du » is today in Paris by default.
    (state,) = [f for f in registrations.get("/household").data["facts"] if f["fact"] == "single_parent"]
    assert (state["value"], state["status"], state["effective_from"]) == (True, "validated", paris_day(datetime.now(timezone.utc)).isoformat())


def test_a_parent_deletes_a_document_but_not_one_a_validation_rests_on(stack, page):
    parent = stack.account("parent")
    declare_family(stack, parent, "Noa", date(2015, 1, 20))
    registrations = stack.parent("registrations", parent)
    kept = registrations.upload("/household/documents", PDF, {"fact": "quotient_tranche", "filename": "avis.pdf"}).data
    dropped = registrations.upload("/household/documents", PNG, {"fact": "single_parent", "filename": "caf.png"}).data
    sign_in(page, stack.portal, parent)
    page.goto(f"{stack.portal}/justificatifs")

    page.locator(f"[data-document='{dropped['document_id']}']").get_by_role("button", name="Supprimer").click()
    expect(page.get_by_text("Le justificatif est supprimé.")).to_be_visible()
    assert [d["document_id"] for d in registrations.get("/household/documents").data] == [kept["document_id"]]
    expect(page.locator(f"[data-document='{dropped['document_id']}']")).to_have_count(0)

    # An agent validates the tranche from the other one while the page still offers to delete it: refused in French.
    agent = stack.client("registrations", stack.account("agent"))
    agent.post(f"/agent/families/{parent.subject}/facts/quotient_tranche/validation", {
        "value": 3, "effective_from": date.today().isoformat(), "document_id": kept["document_id"],
        "reason": VALIDATED_BECAUSE})
    card = page.locator(f"[data-document='{kept['document_id']}']")
    card.get_by_role("button", name="Supprimer").click()
    expect(page.locator(".notice")).to_have_text(
        "Ce justificatif n'a pas été supprimé : un agent de la Ville a validé un fait de votre foyer à partir de lui, "
        "et il est gardé tant que cette validation tient.")
    expect(card.locator(".validated")).to_contain_text("Quotient familial : tranche 3 — validé le ")
    assert [d["document_id"] for d in registrations.get("/household/documents").data] == [kept["document_id"]]
    assert_accessible(page, "justificatifs-suppression-refusee")

    page.goto(f"{stack.portal}/historique")
    expect(page.locator(".change.by-family").filter(has_text="Justificatif supprimé")).to_have_count(1)


def test_the_history_reads_twenty_changes_a_page_newest_first(stack, page):
    parent = stack.account("parent")
    declare_family(stack, parent, "Eli", date(2016, 7, 7))  # the household declared, a child added: 2 changes
    registrations = stack.parent("registrations", parent)
    for n in range(20):  # 20 uploads: 22 changes in all
        registrations.upload("/household/documents", PDF + b"%" + str(n).encode(), {"fact": "quotient_tranche"})
    sign_in(page, stack.portal, parent)
    page.goto(f"{stack.portal}/historique")
    expect(page.locator(".change")).to_have_count(20)
    expect(page.locator(".change").first).to_contain_text("Justificatif envoyé — un justificatif")
    assert_accessible(page, "historique-page-1")
    page.get_by_role("link", name="Modifications plus anciennes").click()
    expect(page.locator(".change")).to_have_count(2)
    expect(page.locator(".change h2")).to_have_text(["Enfant ajouté — Eli Martin", "Foyer déclaré"])
    expect(page.get_by_role("link", name="Modifications plus anciennes")).to_have_count(0)
    page.get_by_role("link", name="Revenir aux modifications les plus récentes").click()
    expect(page.locator(".change")).to_have_count(20)


def test_an_agent_records_a_document_the_family_brought_with_a_motif_and_the_family_sees_it(stack, page, browser):
    parent = stack.account("parent")
    declare_family(stack, parent, "Sacha", date(2014, 4, 4))
    registrations = stack.parent("registrations", parent)
    brought = "Attestation CAF apportée au guichet du 18e."
    agent = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        counter = agent.new_page()
        sign_in(counter, stack.portal, stack.account("agent"))
        counter.goto(f"{stack.portal}/accueil/familles/{parent.subject}/justificatifs")
        expect(counter.get_by_text("Aucun justificatif.")).to_be_visible()
        # Without a motif: named next to its field, the fact and the motif kept, nothing stored.
        counter.get_by_label("Ce justificatif concerne").select_option("single_parent")
        counter.get_by_label("Fichier").set_input_files({"name": "caf.png", "mimeType": "image/png", "buffer": PNG})
        counter.get_by_role("button", name="Enregistrer le justificatif").click()
        expect(counter.locator("#reason-erreur")).to_have_text(
            "Indiquez le motif, que la famille lira : de 3 à 500 caractères.")
        expect(counter.get_by_label("Ce justificatif concerne")).to_have_value("single_parent")
        assert registrations.get("/household/documents").data == []
        assert_accessible(counter, "accueil-justificatif-motif-manquant")
        # A text file named .png: refused by its content in French, the motif kept.
        counter.get_by_label("Fichier").set_input_files({"name": "caf.png", "mimeType": "image/png",
                                                         "buffer": b"pas une image\n"})
        counter.get_by_label("Motif").fill(brought)
        counter.get_by_role("button", name="Enregistrer le justificatif").click()
        expect(counter.locator("#document-erreur")).to_contain_text("Ce fichier n'est ni un PDF, ni une image JPEG ou PNG")
        expect(counter.get_by_label("Motif")).to_have_value(brought)
        assert registrations.get("/household/documents").data == []

        # A motif too short for registrations (3 characters at least): its refusal said next to the motif.
        counter.get_by_label("Fichier").set_input_files({"name": "caf.png", "mimeType": "image/png", "buffer": PNG})
        counter.get_by_label("Motif").fill("ok")
        counter.get_by_role("button", name="Enregistrer le justificatif").click()
        expect(counter.locator("#reason-erreur")).to_have_text(
            "Indiquez le motif, que la famille lira : de 3 à 500 caractères.")
        assert registrations.get("/household/documents").data == []

        counter.get_by_label("Fichier").set_input_files({"name": "caf.png", "mimeType": "image/png", "buffer": PNG})
        counter.get_by_label("Motif").fill(brought)
        counter.get_by_role("button", name="Enregistrer le justificatif").click()
        expect(counter.get_by_text("Le justificatif est enregistré pour la famille")).to_be_visible()
        (document,) = registrations.get("/household/documents").data
        assert (document["fact"], document["filename"], document["media_type"], document["uploaded_by_role"]) == (
            "single_parent", "caf.png", "image/png", "agent")
        card = counter.locator(f"[data-document='{document['document_id']}']")
        expect(card).to_contain_text("par un agent de la Ville")
        assert_accessible(counter, "accueil-justificatif-enregistre")
    finally:
        agent.close()

    # The family reads it in « Historique », done by an agent with the motif.
    sign_in(page, stack.portal, parent)
    page.goto(f"{stack.portal}/historique")
    recorded = page.locator(".change.by-agent").filter(has_text="Justificatif envoyé")
    expect(recorded).to_have_count(1)
    expect(recorded.locator(".by")).to_contain_text(f", motif : {brought}")
