"""A campaign manager's other tools, in a real browser: reserved shares in the campaign form (an edit keeps
them), pushing the close back, cloning a campaign, and the notifications given up on, retried from their page."""
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import create_engine, select

from services.notifications.store.queue import Queued, queue, record_failure
from services.notifications.store.tables import notifications
from shared.kafka import RetryPolicy
from tests.support.pages import create_published_campaign, lottery_campaign, screenshot, sign_in

PARIS = ZoneInfo("Europe/Paris")


def draft_with_reserved_shares(stack, title: str) -> dict:
    body = lottery_campaign(timedelta(days=3), title, closes_in=timedelta(days=5))
    body["policy"]["reserved_shares"] = [{"criterion": {"name": "single_parent"}, "share": 0.2},
                                         {"criterion": {"name": "quotient_tranche_at_most", "max_tranche": 3},
                                          "share": 0.125}]
    return stack.manager("campaigns").post("/campaigns", body, headers={"Idempotency-Key": uuid.uuid4().hex}).data


def test_an_edit_before_the_opening_keeps_the_reserved_shares_and_changes_them_when_asked(stack, page):
    campaign = draft_with_reserved_shares(stack, f"Parts réservées {uuid.uuid4().hex[:4]}")
    sign_in(page, stack.portal, stack.account("manager"))
    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    page.get_by_text("Fenêtre, critères et règles d'attribution").click()
    assert page.get_by_label("Part pour les parents isolés (%)").input_value() == "20"
    assert page.get_by_label("Part pour les petits quotients (%)").input_value() == "12,5"
    assert page.get_by_label("Tranche la plus haute pour cette part (1 à 9)").input_value() == "3"

    # An edit of something else: the shares are sent back as they are, not as an empty list.
    page.get_by_label("Description pour les familles").fill("Stages d'escalade, du lundi au vendredi.")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_text("Campagne enregistrée.")).to_be_visible()
    stored = stack.manager("campaigns").get(f"/campaigns/{campaign['id']}").data
    assert stored["description"] == "Stages d'escalade, du lundi au vendredi."
    assert stored["policy"]["reserved_shares"] == campaign["policy"]["reserved_shares"]
    assert stored["policy"] == campaign["policy"]  # nothing the form does not show was reset either

    # Changed and removed through the form.
    page.get_by_text("Fenêtre, critères et règles d'attribution").click()
    page.get_by_label("Part pour les parents isolés (%)").fill("25")
    page.get_by_label("Part pour les petits quotients (%)").fill("")
    screenshot(page, "gestion-parts-reservees")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_text("Campagne enregistrée.")).to_be_visible()
    stored = stack.manager("campaigns").get(f"/campaigns/{campaign['id']}").data
    assert stored["policy"]["reserved_shares"] == [{"criterion": {"name": "single_parent", "max_tranche": None},
                                                   "share": 0.25}]


def test_a_share_that_is_not_a_percentage_is_named_and_nothing_changes(stack, page):
    campaign = draft_with_reserved_shares(stack, f"Parts fautives {uuid.uuid4().hex[:4]}")
    sign_in(page, stack.portal, stack.account("manager"))
    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    page.get_by_text("Fenêtre, critères et règles d'attribution").click()
    page.get_by_label("Part pour les parents isolés (%)").fill("120")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.locator("#reserved_single_parent-erreur")).to_contain_text("au plus 100")
    stored = stack.manager("campaigns").get(f"/campaigns/{campaign['id']}").data
    assert stored["policy"]["reserved_shares"] == campaign["policy"]["reserved_shares"]
    assert stored["version"] == campaign["version"]


def test_a_manager_pushes_the_close_back_then_clones_the_campaign(stack, page):
    title = f"Prolongée {uuid.uuid4().hex[:4]}"
    published = create_published_campaign(stack, lottery_campaign(timedelta(days=2), title,
                                                                  closes_in=timedelta(days=4)))
    sign_in(page, stack.portal, stack.account("manager"))
    page.goto(f"{stack.portal}/gestion/campagnes/{published['id']}")

    later = datetime.fromisoformat(published["closes_at"]).astimezone(PARIS) + timedelta(days=1)
    later = later.replace(second=0, microsecond=0)
    page.get_by_label("Nouvelle date de fin des inscriptions (heure de Paris)").fill(f"{later:%Y-%m-%dT%H:%M:%S}")
    page.get_by_role("button", name="Repousser la clôture").click()
    expect(page.get_by_text("Clôture repoussée")).to_be_visible()
    stored = stack.manager("campaigns").get(f"/campaigns/{published['id']}").data
    assert datetime.fromisoformat(stored["closes_at"]) == later

    # Earlier than the present close: the service's rule, next to the field; nothing changes.
    page.get_by_label("Nouvelle date de fin des inscriptions (heure de Paris)").fill(
        f"{later - timedelta(days=2):%Y-%m-%dT%H:%M:%S}")
    page.get_by_role("button", name="Repousser la clôture").click()
    expect(page.locator("#new_closes_at-erreur")).to_be_visible()
    assert stack.manager("campaigns").get(f"/campaigns/{published['id']}").data["version"] == stored["version"]

    page.goto(f"{stack.portal}/gestion/campagnes/{published['id']}")
    page.get_by_label("Titre de la copie (vide : le même)").fill(f"{title} — l'an prochain")
    page.get_by_role("button", name="Créer la copie").click()
    expect(page.get_by_text("Copie créée en brouillon")).to_be_visible()
    copy_id = page.url.rstrip("/").split("/")[-1]
    copy = stack.manager("campaigns").get(f"/campaigns/{copy_id}").data
    assert copy["cloned_from_id"] == published["id"] and copy["status"] == "draft"
    assert copy["title"] == f"{title} — l'an prochain"
    assert datetime.fromisoformat(copy["opens_at"]) - datetime.fromisoformat(stored["opens_at"]) == timedelta(days=364)
    expect(page.get_by_role("heading", name=f"{title} — l'an prochain")).to_be_visible()


def given_up_notification(stack) -> tuple[str, str]:
    """A notification the courier gave up on, written by the notifications store itself (the real retries take
    hours): queued for later, so the running courier leaves it, then its one attempt recorded as failed."""
    engine = create_engine(stack.settings.database_url)
    family = f"famille-{uuid.uuid4().hex[:8]}"
    now = datetime.now(timezone.utc)
    try:
        with engine.begin() as connection:
            queue(connection, dedup_key=f"pages-{uuid.uuid4()}", family_account=family, kind="application_received",
                  data={}, now=now + timedelta(days=1))
            notification_id = connection.execute(select(notifications.c.notification_id)
                                                 .where(notifications.c.family_account == family)).scalar_one()
            record_failure(connection, Queued(notification_id, family, "application_received", {}, 0),
                           "451 4.3.0 Mail server busy", now, RetryPolicy(max_attempts=1))
    finally:
        engine.dispose()
    return str(notification_id), family


def test_a_manager_sees_the_failed_deliveries_and_retries_one(stack, page):
    notification_id, family = given_up_notification(stack)
    sign_in(page, stack.portal, stack.account("manager"))
    page.get_by_role("link", name="Envois en échec").click()
    expect(page.get_by_role("heading", name="Envois en échec")).to_be_visible()
    row = page.locator(f"tr[data-notification='{notification_id}']")
    expect(row).to_contain_text(family)
    expect(row).to_contain_text("451 4.3.0 Mail server busy")
    screenshot(page, "gestion-envois-en-echec")
    row.get_by_role("button", name="Relancer").click()
    expect(page.get_by_text("Envoi relancé")).to_be_visible()
    expect(page.locator(f"tr[data-notification='{notification_id}']")).to_have_count(0)
    failed = stack.manager("notifications").get("/notifications/failures").data
    assert notification_id not in {f["notification_id"] for f in failed}
