"""A campaign manager, in a real browser: creates a campaign (window, offer, criteria, tariff grid)
through the pages, corrects it, publishes it, watches the live counters while families apply, closes
it, runs the dry-run and reads its statistics, asks for the results' publication, which a second manager
approves (four eyes, on by default), and downloads the CSV."""
import csv
import io
import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from services.portal.client.api import ApiError
from shared.waiting import wait_until
from tests.support.pages import declare_family, reloading, screenshot, sign_in

PARIS = ZoneInfo("Europe/Paris")
OPENS_IN = timedelta(seconds=20)


def paris_field(instant: datetime) -> str:
    return f"{instant.astimezone(PARIS):%Y-%m-%dT%H:%M:%S}"


def test_manager_creates_publishes_watches_and_allocates_a_campaign(stack, page, browser):
    title = f"Paris Sport Vacances — été {uuid.uuid4().hex[:4]}"
    sign_in(page, stack.portal, stack.account("manager"))
    expect(page.get_by_role("heading", name="Campagnes")).to_be_visible()
    page.get_by_role("link", name="Créer une campagne").click()

    opens_at = datetime.now(PARIS) + OPENS_IN
    start = (opens_at + timedelta(days=10)).date()
    page.get_by_label("Titre (obligatoire)", exact=True).fill(title)
    page.get_by_label("Type de campagne").select_option("sport_vacances")
    page.get_by_label("Ouverture").fill(paris_field(opens_at))
    page.get_by_label("Clôture").fill(paris_field(opens_at + timedelta(hours=2)))
    page.get_by_label("Date de référence pour l'âge des enfants").fill(start.isoformat())
    page.get_by_label("Nombre de choix par enfant").fill("2")
    page.get_by_label("Mode (obligatoire)", exact=True).select_option("priority_lottery")
    page.get_by_label("famille monoparentale", exact=True).check()
    page.get_by_label("quotient familial jusqu'à la tranche…").check()
    page.get_by_label("Tranche maximale (1 à 9)").fill("3")
    page.get_by_label("Titre de l'activité").fill("Voile — découverte")
    page.get_by_label("Lieu (obligatoire)", exact=True).fill("Base nautique de la Villette")
    page.get_by_label("Arrondissement du lieu (1 à 20)").fill("19")
    page.get_by_label("Premier jour").fill(start.isoformat())
    page.get_by_label("Dernier jour").fill((start + timedelta(days=4)).isoformat())
    page.get_by_label("Places (obligatoire)", exact=True).fill("3")
    for tranche in range(1, 11):
        page.get_by_label(f"Tranche {tranche} (obligatoire)", exact=True).fill(f"{3 + tranche},50")
    page.get_by_label("Tranche 7 (obligatoire)", exact=True).fill("2,00")  # below tranche 6: refused
    screenshot(page, "gestion-nouvelle-campagne")
    page.get_by_role("button", name="Créer la campagne").click()

    # The service's rule, in French, next to the field at fault; what was typed is kept.
    expect(page.locator("#offer_tariff_7-erreur")).to_be_visible()
    assert page.get_by_label("Titre de l'activité").input_value() == "Voile — découverte"
    page.get_by_label("Tranche 7 (obligatoire)", exact=True).fill("10,50")
    page.get_by_role("button", name="Créer la campagne").click()
    expect(page.get_by_text("Campagne créée en brouillon")).to_be_visible()
    campaign_url = page.url
    campaign_id = campaign_url.rstrip("/").split("/")[-1]

    # Edit: the capacity goes from 3 to 2 places, under the ETag read with the page.
    page.get_by_text("Voile — découverte — Base nautique de la Villette").click()
    page.locator("#o1_capacity").fill("2")
    page.get_by_role("button", name="Enregistrer l'activité").click()
    expect(page.get_by_text("Activité enregistrée.")).to_be_visible()
    stored = stack.manager("campaigns").get(f"/campaigns/{campaign_id}").data
    offer = stored["offers"][0]
    assert (stored["title"], offer["capacity"], offer["tariffs_cents"][6]) == (title, 2, 1050)
    assert stored["policy"]["criteria"] == [{"name": "single_parent", "max_tranche": None},
                                           {"name": "quotient_tranche_at_most", "max_tranche": 3}]

    page.get_by_text("Fenêtre, critères et règles d'attribution").click()
    page.get_by_label("Description pour les familles").fill("Voile sur le bassin de la Villette, du lundi au vendredi.")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_text("Campagne enregistrée.")).to_be_visible()
    assert stack.manager("campaigns").get(f"/campaigns/{campaign_id}").data["description"].startswith("Voile sur")

    page.get_by_role("button", name="Publier la campagne").click()
    expect(page.locator("[data-status]")).to_have_text("à venir")

    # Three families apply once the window is open (through the API: the parent's pages are tested apart).
    families = [(stack.account("parent"), name) for name in ("Inès", "Hugo", "Nora")]
    children = {account: declare_family(stack, account, name, date(2015, 3, 1), single_parent=name == "Nora")
                for account, name in families}
    wait_until(reloading(page, lambda: page.locator("[data-status]").inner_text() == "ouverte"), timeout=40,
               interval=1, what="the window open on the page")
    submitted = [submit(stack, account, campaign_id, child, offer["id"]) for account, child in children.items()]

    # The live counters refresh by themselves (every 5 s) while the window is open.
    expect(page.locator("[data-total]")).to_have_text("3", timeout=20_000)
    expect(page.locator("#compteurs")).to_contain_text("Voile — découverte")
    screenshot(page, "gestion-compteurs")
    try:
        stack.parent("registrations", families[0][0]).get(f"/applications/counters/{campaign_id}")
        raise AssertionError("a parent read the managers' counters")
    except ApiError as error:
        assert error.status == 403

    page.get_by_role("button", name="Clore les inscriptions maintenant").click()
    expect(page.locator("[data-status]")).to_have_text("close")
    allocation = stack.manager("allocation")
    wait_until(lambda: allocation.get(f"/campaigns/{campaign_id}/allocation").data["closed_at"], timeout=30,
               what="allocation told of the close")
    wait_until(lambda: allocation.post(f"/campaigns/{campaign_id}/allocation/dry-run")
               .data["statistics"]["applications"] == 3, timeout=30, what="the three applications in allocation")

    page.goto(campaign_url)
    page.get_by_role("button", name="Lancer une simulation").click()
    expect(page.get_by_text("Simulation faite")).to_be_visible()
    stats = page.locator("dl.stats").first
    expect(stats).to_contain_text("Demandes3")
    expect(stats).to_contain_text("Places attribuées2")
    expect(stats).to_contain_text("Listes d'attente1")
    expect(page.get_by_role("table", name="Simulation — par activité")).to_contain_text("100 %")
    screenshot(page, "gestion-simulation")

    # Four eyes: the manager asks; alone, it cannot publish.
    page.get_by_role("button", name="Demander la publication des résultats").click()
    expect(page.get_by_text("Publication demandée : un second gestionnaire doit l'approuver")).to_be_visible()
    expect(page.locator("[data-publication-request]")).to_contain_text("en attente d'un second gestionnaire")
    expect(page.get_by_role("button", name="Approuver et publier les résultats")).to_have_count(0)
    assert allocation.get(f"/campaigns/{campaign_id}/allocation").data["published"] is None

    second_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                         timezone_id="Europe/Paris")
    second_context.set_default_timeout(15_000)
    second = second_context.new_page()
    sign_in(second, stack.portal, stack.account("manager"))
    second.goto(campaign_url)
    expect(second.locator("[data-publication-request]")).to_contain_text("en attente d'un second gestionnaire")
    screenshot(second, "gestion-publication-demandee")
    second.get_by_role("button", name="Approuver et publier les résultats").click()
    expect(second.get_by_text("Résultats publiés :")).to_be_visible()
    with second.expect_download() as download:
        second.get_by_role("link", name="Télécharger les résultats (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert sorted(r["application_id"] for r in rows) == sorted(submitted)
    assert sorted(r["outcome"] for r in rows) == ["allocated", "allocated", "waitlisted"]
    assert {r["offer_id"] for r in rows if r["outcome"] == "allocated"} == {offer["id"]}
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["lottery_number"]) for r in rows)
    screenshot(second, "gestion-resultats")
    second_context.close()


def submit(stack, account, campaign_id: str, child_id: str, offer_id: str) -> str:
    registrations = stack.parent("registrations", account)
    body = {"campaign_id": campaign_id, "child_id": child_id, "choices": [offer_id], "sworn_statement": True}
    answer = registrations.post("/applications", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status == 202
    return answer.data["application_id"]
