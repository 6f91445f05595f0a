"""A family's own data in the portal: one archive assembled from every service's export (checked against what
the services themselves answer), and erasure — refused with its reason while an application is open, then done,
the session ended and the household gone. axe on the page."""
import json
import uuid
from datetime import date, timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from services.portal.client.api import ApiError
from shared.waiting import wait_until
from tests.pages.test_family_places import apply_by_api, opened, status_of
from tests.support.accessibility import axe_violations
from tests.support.pages import create_published_campaign, declare_family, lottery_campaign, screenshot, sign_in

OPENS_IN = timedelta(seconds=4)


def test_a_family_downloads_everything_in_one_archive_then_erases_its_data(stack, page):
    account = stack.account("parent")
    campaign = create_published_campaign(stack, lottery_campaign(OPENS_IN, f"Conservatoire {uuid.uuid4().hex[:4]}"))
    child = declare_family(stack, account, "Jeanne", date(2014, 9, 1))
    registrations = stack.parent("registrations", account)
    opened(campaign)
    application_id = apply_by_api(registrations, campaign, child)
    wait_until(lambda: status_of(registrations, application_id) == "received", timeout=30, interval=0.5,
               what="the application in the ledger")

    sign_in(page, stack.portal, account)
    page.get_by_role("link", name="Mes données").click()
    expect(page.get_by_role("heading", name="Mes données", exact=True)).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "parent-mes-donnees")

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger mes données (JSON)").click()
    assert download.value.suggested_filename.startswith("guichet-mes-donnees-")
    archive = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert archive["format"] == "guichet-family-archive/1" and archive["missing"] == []
    assert archive["services"]["registrations"] == registrations.get("/household/export").data
    notifications = stack.parent("notifications", account).get("/notifications/export").data
    assert archive["services"]["notifications"]["records"] == notifications["records"]
    (kept,) = archive["services"]["registrations"]["records"]["applications"]
    assert kept["application_id"] == application_id
    assert [c["first_name"] for c in archive["services"]["registrations"]["records"]["children"]] == ["Jeanne"]

    # Erasure is refused while the application is open: said, and nothing erased.
    page.get_by_label("Je veux effacer les données de mon foyer ; je sais que c'est définitif.").check()
    page.get_by_role("button", name="Effacer les données de mon foyer").click()
    expect(page.get_by_role("alert")).to_contain_text("L'effacement n'a pas été fait.")
    assert registrations.get("/household").data["children"][0]["first_name"] == "Jeanne"

    registrations.post(f"/applications/{application_id}/withdraw", headers={"Idempotency-Key": uuid.uuid4().hex})
    wait_until(lambda: status_of(registrations, application_id) == "withdrawn", timeout=30, interval=0.5,
               what="the withdrawal")
    page.get_by_role("button", name="Effacer les données de mon foyer").click()  # without the box: asked again
    expect(page.locator("#confirm-erreur")).to_be_visible()
    page.get_by_label("Je veux effacer les données de mon foyer ; je sais que c'est définitif.").check()
    page.get_by_role("button", name="Effacer les données de mon foyer").click()
    expect(page.get_by_role("heading", name="Les données de votre foyer sont effacées")).to_be_visible()
    assert axe_violations(page) == []
    with pytest.raises(ApiError) as gone:
        registrations.get("/household")
    assert gone.value.status == 404
    page.goto(f"{stack.portal}/mes-donnees")  # the session ended with the data: signed out
    assert urlparse(page.url).path != "/mes-donnees"
