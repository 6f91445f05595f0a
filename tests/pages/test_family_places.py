"""A family's places in the portal: the calendar file of its confirmed places (downloaded and parsed),
withdrawing an application with what it means said first (a first-come place goes to the next family and
is not taken back; a confirmed place follows the campaign's cancellation rule), and the explanation page's
lottery number with the link to the public draw record. axe on every new page."""
import uuid
from datetime import date, datetime, timedelta, timezone

import icalendar
from playwright.sync_api import expect

from shared.formatting import CONTACT_FORM_URL, euros, paris_instant
from shared.waiting import wait_until
from tests.pages.test_parent_journey import draw
from tests.support.accessibility import axe_violations
from tests.support.pages import create_published_campaign, declare_family, lottery_campaign, screenshot, sign_in

OPENS_IN = timedelta(seconds=4)


def apply_by_api(registrations, campaign: dict, child_id: str) -> str:
    return registrations.post("/applications", {"campaign_id": campaign["id"], "child_id": child_id,
                                                "choices": [campaign["offers"][0]["id"]], "sworn_statement": True},
                              headers={"Idempotency-Key": uuid.uuid4().hex}).data["application_id"]


def status_of(registrations, application_id: str) -> str | None:
    """From the family's list (the ledger): `GET /applications/{id}` answers a 500 while the application is
    still pending (its submitted_at read back from Redis as text), a registrations bug left to its owner."""
    return next((a["status"] for a in registrations.get("/applications").data
                 if a["application_id"] == application_id), None)


def opened(campaign: dict) -> None:
    wait_until(lambda: datetime.now(timezone.utc) >= datetime.fromisoformat(campaign["opens_at"]), timeout=30,
               interval=0.2, what="the opening")


def test_a_family_downloads_its_calendar_and_withdraws_first_come_places_knowing_what_it_loses(stack, page):
    account = stack.account("parent")
    body = lottery_campaign(OPENS_IN, f"Mercredis loisirs {uuid.uuid4().hex[:4]}", mode="fcfs")
    free_until = datetime.now(timezone.utc).replace(microsecond=0)  # already past when the family withdraws
    body.update(waiting_room=False, free_withdrawal_until=free_until.isoformat(), late_withdrawal_fee_cents=300)
    campaign = create_published_campaign(stack, body)
    offer = campaign["offers"][0]
    lea = declare_family(stack, account, "Léa", date(2016, 5, 14))
    registrations = stack.parent("registrations", account)
    tom = registrations.post("/household/children", {"first_name": "Tom", "last_name": "Martin",
                                                     "birth_date": "2014-02-03"},
                             headers={"Idempotency-Key": uuid.uuid4().hex}).data["child_id"]
    opened(campaign)
    confirmed_id, offered_id = apply_by_api(registrations, campaign, lea), apply_by_api(registrations, campaign, tom)
    wait_until(lambda: {status_of(registrations, a) for a in (confirmed_id, offered_id)} == {"allocated"},
               timeout=30, interval=0.5, what="both first-come places given")
    registrations.post(f"/applications/{confirmed_id}/accept", headers={"Idempotency-Key": uuid.uuid4().hex})

    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/demandes")
    # The footer names the help channel, the contact form a link.
    expect(page.locator("footer .help a[href='tel:3975']")).to_have_text("3975")
    expect(page.locator(f"footer .help a[href='{CONTACT_FORM_URL}']")).to_have_text(
        "formulaire de contact de la Ville")

    assert axe_violations(page) == []  # the list with its withdraw links and the calendar link
    screenshot(page, "parent-mes-demandes-agenda")

    # The calendar file: one all-day event for the one confirmed place, on the activity's days.
    with page.expect_download() as download:
        page.get_by_role("link", name="Ajouter mes places confirmées à mon agenda (fichier .ics)").click()
    assert download.value.suggested_filename == "mes-places.ics"
    calendar = icalendar.Calendar.from_ical(open(download.value.path(), "rb").read())
    events = calendar.walk("VEVENT")
    assert len(events) == 1 and str(calendar["X-WR-TIMEZONE"]) == "Europe/Paris"
    (event,) = events
    assert str(event["UID"]) == f"{confirmed_id}@guichet.paris.fr"
    assert str(event["SUMMARY"]) == "Escalade — initiation — Léa Martin"
    assert str(event["LOCATION"]) == offer["site"]
    assert event.decoded("DTSTART") == date.fromisoformat(offer["starts_on"])
    assert event.decoded("DTEND") == date.fromisoformat(offer["ends_on"]) + timedelta(days=1)  # exclusive

    # An offered first-come place: it goes to the next family and cannot be taken back.
    page.get_by_role("link", name="Retirer la demande de Tom Martin").click()
    expect(page.get_by_role("heading", name="Retirer la demande de Tom Martin")).to_be_visible()
    expect(page.locator(".first-come")).to_contain_text(
        "la place passe aussitôt à la famille suivante et ne peut pas être reprise")
    expect(page.locator(".cancellation")).to_have_count(0)  # not confirmed: nothing paid
    assert axe_violations(page) == []
    screenshot(page, "parent-retrait-premier-arrive")
    page.get_by_role("button", name="Confirmer le retrait").click()
    expect(page.get_by_text("Votre demande est retirée.")).to_be_visible()
    assert status_of(registrations, offered_id) == "withdrawn"
    assert status_of(registrations, confirmed_id) == "confirmed"  # the other child's place is untouched

    # The confirmed place, after the free withdrawal: the fee kept, said before the button.
    page.get_by_role("link", name="Retirer la demande de Léa Martin").click()
    expect(page.locator(".cancellation")).to_contain_text(
        f"Le retrait gratuit était possible jusqu'au {paris_instant(free_until, 'fr')}.")
    expect(page.locator(".cancellation")).to_contain_text(
        f"{euros(300, 'fr')} sont retenus sur le prix payé ; le reste, s'il y en a, vous est crédité.")
    expect(page.locator(".first-come")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "parent-retrait-place-confirmee")
    page.get_by_role("button", name="Confirmer le retrait").click()
    expect(page.get_by_text("Votre demande est retirée.")).to_be_visible()
    assert status_of(registrations, confirmed_id) == "withdrawn"
    expect(page.get_by_role("link", name="Retirer la demande de Léa Martin")).to_have_count(0)
    # No confirmed place left: the calendar has no event (and the page no longer offers it).
    expect(page.get_by_role("link", name="Ajouter mes places confirmées à mon agenda (fichier .ics)")).to_have_count(0)
    left = icalendar.Calendar.from_ical(page.request.get(f"{stack.portal}/demandes/calendrier.ics").body())
    assert left.walk("VEVENT") == []


def test_the_explanation_links_the_public_draw_record_and_a_confirmed_place_is_free_to_withdraw_until_the_date(
        stack, page):
    account = stack.account("parent")
    body = lottery_campaign(OPENS_IN, f"Paris Sport Vacances {uuid.uuid4().hex[:4]}")
    free_until = datetime.fromisoformat(body["closes_at"]) + timedelta(days=1)
    body.update(free_withdrawal_until=free_until.isoformat(), late_withdrawal_fee_cents=None)
    campaign = create_published_campaign(stack, body)
    child = declare_family(stack, account, "Inès", date(2015, 3, 2))
    registrations = stack.parent("registrations", account)
    opened(campaign)
    application_id = apply_by_api(registrations, campaign, child)
    wait_until(lambda: status_of(registrations, application_id) == "received", timeout=30, interval=0.5,
               what="the application in the ledger")
    draw(stack, campaign)
    wait_until(lambda: status_of(registrations, application_id) == "allocated", timeout=30, interval=0.5,
               what="the decision")
    explanation = stack.parent("allocation", account).get(f"/explanations/{application_id}").data

    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/demandes/{application_id}/explication")
    expect(page.get_by_role("heading", name="Explication de la décision")).to_be_visible()
    expect(page.locator("main")).to_contain_text(explanation["lottery_number"])
    record = page.get_by_role("link", name="le registre public du tirage")
    assert record.get_attribute("href") == f"{stack.urls['allocation']}/draws/{campaign['id']}"
    published = page.request.get(record.get_attribute("href"))
    assert published.ok and published.json()["commitment"]  # the record the link leads to, public, no token
    assert axe_violations(page) == []

    registrations.post(f"/applications/{application_id}/accept", headers={"Idempotency-Key": uuid.uuid4().hex})
    page.goto(f"{stack.portal}/demandes/{application_id}/retrait")
    expect(page.locator(".cancellation")).to_contain_text(
        f"Retrait gratuit jusqu'au {paris_instant(free_until, 'fr')} : retirée maintenant, "
        "le prix payé vous est crédité en entier.")
    expect(page.locator(".cancellation")).to_contain_text("Après cette date, rien ne serait crédité.")
    expect(page.locator(".first-come")).to_have_count(0)  # a lottery place: no arrival order to lose
    assert axe_violations(page) == []
    # Keeping it changes nothing.
    page.get_by_role("link", name="Garder la demande et revenir à mes demandes").click()
    assert status_of(registrations, application_id) == "confirmed"


def test_a_second_child_is_kept_with_the_first_through_the_form(stack, page):
    account = stack.account("parent")
    body = lottery_campaign(OPENS_IN, f"Stages fratries {uuid.uuid4().hex[:4]}")
    body["policy"]["keep_siblings_together"] = True
    campaign = create_published_campaign(stack, body)
    lea = declare_family(stack, account, "Léa", date(2016, 5, 14))
    registrations = stack.parent("registrations", account)
    tom = registrations.post("/household/children", {"first_name": "Tom", "last_name": "Martin",
                                                     "birth_date": "2014-02-03"},
                             headers={"Idempotency-Key": uuid.uuid4().hex}).data["child_id"]
    opened(campaign)
    first = apply_by_api(registrations, campaign, lea)

    sign_in(page, stack.portal, account)
    page.goto(f"{stack.portal}/campagnes/{campaign['id']}/enfants/{tom}")
    siblings = page.get_by_role("group", name="Garder les frères et sœurs ensemble (facultatif)")
    expect(siblings).to_contain_text("dans la même activité, ou ensemble sur la liste d'attente")
    assert axe_violations(page) == []
    siblings.get_by_label("Placer Tom avec Léa").check()
    page.get_by_label("Choix n°1").select_option(campaign["offers"][0]["id"])
    page.get_by_label("J'atteste sur l'honneur").check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_text("Demande enregistrée", exact=True)).to_be_visible()
    second = page.locator("code").first.inner_text()
    kept = wait_until(lambda: next((a["keep_with_applications"] for a in registrations.get("/applications").data
                                    if a["application_id"] == second), None),
                      timeout=30, interval=0.5, what="the second application in the ledger")
    assert kept == [first]
