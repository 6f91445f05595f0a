"""A parent, in a real browser: signs in, declares the household and a child, waits on the countdown of
a campaign opening seconds later (by the server's clock, although the browser's is an hour off),
submits, presses again without a second application, sees the decision after the draw, reads its
explanation, accepts the place and finds the message in the inbox."""
import re
import time
import uuid
from datetime import date, datetime, timedelta, timezone

from playwright.sync_api import expect

from services.portal.client.api import ApiError
from shared.formatting import paris_instant
from shared.waiting import wait_until
from tests.support.pages import create_published_campaign, lottery_campaign, reloading, screenshot, sign_in

OPENS_IN = timedelta(seconds=20)


def test_parent_applies_at_the_opening_once_and_accepts_the_place(stack, page):
    account = stack.account("parent")
    title = f"Paris Sport Vacances — printemps {uuid.uuid4().hex[:4]}"
    campaign = create_published_campaign(stack, lottery_campaign(OPENS_IN, title))
    opens_at = datetime.fromisoformat(campaign["opens_at"])

    # The browser's clock is an hour ahead: a countdown trusting it would open the form at once.
    page.context.clock.install(time=datetime.now() + timedelta(hours=1))

    sign_in(page, stack.portal, account)
    expect(page.get_by_role("heading", name="Mon foyer")).to_be_visible()
    page.get_by_label("Tranche de quotient familial").select_option("3")
    page.get_by_label("Date du justificatif de quotient").fill("2026-09-30")
    page.get_by_label("Arrondissement de résidence").select_option("11")
    page.get_by_label("Recevoir aussi les avis par courrier").check()
    page.get_by_role("button", name="Enregistrer le foyer").click()
    expect(page.get_by_text("Indiquez l'adresse où envoyer les courriers.")).to_be_visible()  # paper needs it
    page.get_by_label("Numéro et voie").fill("12 rue Oberkampf")
    page.get_by_label("Code postal").fill("75011")
    page.get_by_label("Ville").fill("Paris")
    page.get_by_role("button", name="Enregistrer le foyer").click()
    expect(page.get_by_text("Votre foyer est enregistré.")).to_be_visible()
    expect(page.get_by_label("Code postal")).to_have_value("75011")

    page.get_by_label("Prénom").fill("Léa")
    page.get_by_label("Nom (obligatoire)", exact=True).fill("Durand")
    page.get_by_label("Date de naissance").fill(date(2016, 5, 14).isoformat())
    page.get_by_role("button", name="Ajouter l'enfant").click()
    expect(page.get_by_text("Léa est ajouté(e) à votre foyer.")).to_be_visible()
    screenshot(page, "parent-foyer")

    page.get_by_role("link", name="Campagnes", exact=True).click()
    expect(page.get_by_role("heading", name="Pour Léa Durand")).to_be_visible()
    page.get_by_role("link", name=f"Préparer la demande pour Léa — {title}").click()

    countdown = page.locator("[data-countdown]")
    expect(countdown).to_contain_text("Ouverture dans")
    shown = re.search(r"(\d+) min (\d+) s", countdown.inner_text())
    left = (opens_at - datetime.now(timezone.utc)).total_seconds()
    assert shown and abs(int(shown[1]) * 60 + int(shown[2]) - left) <= 3, (countdown.inner_text(), left)
    screenshot(page, "parent-compte-a-rebours")
    assert page.locator("#choice_1").count() == 0

    # The script reloads the page at the opening; the server shows the form from that instant on.
    page.locator("#choice_1").wait_for(timeout=(left + 15) * 1000)
    assert datetime.now(timezone.utc) >= opens_at - timedelta(seconds=1)
    page.get_by_label("Choix n°1").select_option(campaign["offers"][0]["id"])
    page.get_by_label("J'atteste sur l'honneur").check()
    key = page.locator("input[name=idempotency_key]").input_value()
    csrf_token = page.locator("form[data-submit-once] input[name=csrf_token]").input_value()
    form_url = page.url
    screenshot(page, "parent-formulaire")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.get_by_role("button", name="Envoyer ma demande").dblclick()
    expect(page.get_by_text("Demande enregistrée", exact=True)).to_be_visible()
    assert posts == [form_url]  # the script let one press through
    reference = page.locator("code").first.inner_text()
    screenshot(page, "parent-demande-envoyee")

    # The same form sent again (a browser without the script, a retry): the first answer, replayed.
    again = page.request.post(form_url, form={"idempotency_key": key, "choice_1": campaign["offers"][0]["id"],
                                              "sworn_statement": "oui", "csrf_token": csrf_token})
    assert again.status == 200 and reference in again.text()
    # A form rendered afresh (new key): refused in plain words, nothing recorded.
    page.goto(form_url)
    page.get_by_label("Choix n°1").select_option(campaign["offers"][0]["id"])
    page.get_by_label("J'atteste sur l'honneur").check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("alert")).to_contain_text("Cet enfant a déjà une demande en cours pour cette campagne")

    registrations = stack.parent("registrations", account)
    ledger = wait_until(lambda: registrations.get("/applications").data, timeout=30, what="the application in the ledger")
    time.sleep(2)  # anything else sent would have reached the ledger by now
    ledger = registrations.get("/applications").data
    assert [a["application_id"] for a in ledger] == [reference]
    counters = stack.manager("registrations").get(f"/applications/counters/{campaign['id']}").data
    assert counters["received"] == 1

    draw(stack, campaign)

    page.get_by_role("link", name="Mes demandes", exact=True).click()
    wait_until(reloading(page, lambda: "place proposée" in page.locator(".status").first.inner_text()),
               timeout=30, interval=1, what="the decision on the page")
    deadline = datetime.fromisoformat(registrations.get(f"/applications/{reference}").data["offer_expires_at"])
    expect(page.locator(".deadline")).to_contain_text(f"Répondez avant le {paris_instant(deadline, 'fr')} (heure de Paris)")
    screenshot(page, "parent-mes-demandes")

    page.get_by_role("link", name="Comprendre la décision").click()
    expect(page.locator(".outcome")).to_contain_text("Résultat : place attribuée — Escalade — initiation")
    expect(page.get_by_role("table")).to_contain_text("admis")
    screenshot(page, "parent-explication")

    page.get_by_role("link", name="Retour à mes demandes").click()
    page.get_by_role("button", name="Accepter la place").click()
    expect(page.get_by_text("Place acceptée : l'inscription est confirmée.")).to_be_visible()
    expect(page.locator(".status").first).to_have_text("place confirmée")
    assert registrations.get(f"/applications/{reference}").data["status"] == "confirmed"

    page.get_by_role("link", name="Messages", exact=True).click()
    wait_until(reloading(page, lambda: page.locator(".message").count() >= 3), timeout=30, interval=1,
               what="received, offered and confirmed in the inbox")
    expect(page.locator(".message").first).to_contain_text("Léa")
    screenshot(page, "parent-messages")
    unread = page.locator(".message.unread").count()
    page.get_by_role("button", name=re.compile("^Marquer comme lu")).first.click()
    expect(page.locator(".message.unread")).to_have_count(unread - 1)
    # The message about the decision links to its explanation, in the portal.
    page.get_by_role("link", name=re.compile("^Lire l'explication de la décision")).first.click()
    expect(page.get_by_role("heading", name="Explication de la décision")).to_be_visible()

    # On another device (a session that never saw the campaign in the listing), the campaign, closed
    # now, is still named: the portal reads it from its public page.
    elsewhere = page.context.browser.new_context().new_page()
    sign_in(elsewhere, stack.portal, account)
    elsewhere.goto(f"{stack.portal}/demandes")
    expect(elsewhere.locator(".application h2").first).to_have_text(f"Léa Durand — {title}")
    expect(elsewhere.locator(".application").first).to_contain_text("Escalade — initiation")
    elsewhere.context.close()


def draw(stack, campaign: dict) -> None:
    """What a manager does once the window is over: close it early and publish the draw."""
    campaigns, allocation = stack.manager("campaigns"), stack.manager("allocation")
    etag = campaigns.get(f"/campaigns/{campaign['id']}").headers["ETag"]
    campaigns.post(f"/campaigns/{campaign['id']}/close-early", headers={"If-Match": etag})

    def drawn():
        if allocation.post(f"/campaigns/{campaign['id']}/allocation/dry-run").data["statistics"]["applications"] < 1:
            return False
        try:
            return allocation.post(f"/campaigns/{campaign['id']}/allocation/publish",
                                   headers={"Idempotency-Key": uuid.uuid4().hex}).data
        except ApiError as error:
            if error.code == "campaign-not-closed":
                return False
            raise

    wait_until(drawn, timeout=30, interval=0.5, what="the draw published")
