"""axe-core's WCAG 2.1 A and AA rules on every page of the portal, of both roles, signed out and in error, with no
violation at all; the list of audited pages checked against the portal's own routes, so that a page added
without an audit fails here. And a journey with the keyboard alone: sign in, reach a campaign, fill in and send
an application, every focused element visibly outlined."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone

from playwright.sync_api import expect

from services.portal.app import create_app
from services.portal.client.api import ApiError
from services.portal.settings import SERVICES, PortalSettings
from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.keycloak import PORTAL_SECRET
from tests.support.pages import create_published_campaign, declare_family, lottery_campaign, sign_in

# What the portal answers to a GET that is not a page: files, JSON, redirects, a fragment of a page (the
# live counters, audited inside the campaign's page), the provider's round trip, the platform's endpoints.
NOT_PAGES = {
    "static", "healthz", "readyz", "metrics", "api-docs.openapi_json", "api-docs.openapi_swagger_ui",
    "swagger_ui_file", "auth.home", "auth.sign_in", "auth.callback", "parents.explanation_link",
    "places.calendar_file", "managers.results_csv", "managers.live_counters", "my_data.archive",
    "waiting_room.status", "audit.family_trail_csv", "audit.campaign_trail_csv",
    "documents.document_download", "agent_documents.document_file_view",
}
# The managers' chart images (web/charts.py): SVG images, not pages (axe audits a document's HTML); each is audited
# where it is shown, an <img> with its text alternative beside its table, in the campaign's page
# (test_manager_charts.py). The guard checks that these routes answer .svg addresses only.
CHART_IMAGES = {"charts.arrivals", "charts.fill_rate", "charts.placement_rate"}
PUBLIC_PAGES = {"accessibility.statement", "auth.signed_out", "auth.expired", "my_data.erased"}
FAMILY_PAGES = {"parents.campaigns", "parents.family", "parents.apply", "waiting_room.wait", "parents.applications",
                "parents.explanation", "places.withdraw_page", "parents.inbox", "my_data.my_data",
                "choices.change_page"}
MANAGER_PAGES = {"managers.campaigns", "managers.campaign", "managers.new_campaign", "managers.failed_deliveries",
                 "letters.queue"}
# Audited in test_audit_pages.py, a campaign's trail once it has entries, filtered, and with a wrong filter.
MANAGER_AUDIT_PAGES = {"audit.campaign_trail"}
# Audited in test_agent_counter.py, along the agent's journey (a family's applications need an offered place).
AGENT_PAGES = {"agents.search", "agents.family", "agents.application", "agents.household", "agents.apply",
               "audit.family_trail"}
# Audited in test_family_documents.py (a family's documents, a validation, the history they leave) and
# test_agent_children.py (a child added, corrected, removed), with their errors.
DOCUMENT_PAGES = {"documents.documents", "history.history", "agent_documents.documents", "agent_documents.validation",
                  "agent_children.new_child", "agent_children.change_page", "agent_children.removal_page"}


def assert_no_violation(page, name: str) -> None:
    found = axe_violations(page)
    assert found == [], f"{name} ({page.url}):\n" + "\n".join(found)


def test_every_page_of_the_portal_is_audited(oidc_provider, redis_url):
    settings = PortalSettings(service_name="portal", redis_url=redis_url, oidc_issuer=oidc_provider.issuer,
                              oidc_client_secret=PORTAL_SECRET, secret_key="a-secret-for-the-route-list",
                              **{f"{name}_url": "http://127.0.0.1:9" for name in SERVICES})
    rules = [rule for rule in create_app(settings).url_map.iter_rules() if "GET" in rule.methods]
    routes = {rule.endpoint for rule in rules}
    assert {rule.endpoint for rule in rules if rule.rule.endswith(".svg")} == CHART_IMAGES
    assert all(rule.rule.endswith(".svg") for rule in rules if rule.endpoint in CHART_IMAGES)
    assert routes - NOT_PAGES - CHART_IMAGES == (PUBLIC_PAGES | FAMILY_PAGES | MANAGER_PAGES | MANAGER_AUDIT_PAGES
                                                 | AGENT_PAGES | DOCUMENT_PAGES)


def test_signed_out_and_error_pages(stack, page):
    for name, path in (("accessibilite", "/accessibilite"), ("au-revoir", "/au-revoir"),
                       ("session-expiree", "/session-expiree"), ("donnees-effacees", "/mes-donnees/effacees"),
                       ("introuvable", "/pas-de-page-ici")):
        page.goto(stack.portal + path)
        assert_no_violation(page, name)
    sign_in(page, stack.portal, stack.account("parent"))
    answer = page.goto(f"{stack.portal}/gestion")  # a family on the managers' pages
    assert answer.status == 403
    assert_no_violation(page, "refus-parent")
    answer = page.goto(f"{stack.portal}/demandes/{uuid.uuid4()}/explication")  # no such decision
    assert answer.status in (404, 409)
    assert_no_violation(page, "explication-introuvable")


def status_of(registrations, application_id: str) -> str | None:
    return next((a["status"] for a in registrations.get("/applications").data
                 if a["application_id"] == application_id), None)


def test_every_family_page(stack, page):
    account = stack.account("parent")
    lea = declare_family(stack, account, "Léa", date(2016, 5, 14))
    registrations = stack.parent("registrations", account)
    first_come = lottery_campaign(timedelta(seconds=3), f"Mercredis {uuid.uuid4().hex[:4]}", mode="fcfs")
    first_come["waiting_room"] = False
    open_campaign = create_published_campaign(stack, first_come)
    upcoming = create_published_campaign(stack, lottery_campaign(timedelta(hours=1), f"Stages {uuid.uuid4().hex[:4]}",
                                                                 closes_in=timedelta(hours=2)))
    with_room = create_published_campaign(stack, lottery_campaign(timedelta(minutes=30), f"Loisirs {uuid.uuid4().hex[:4]}",
                                                                  mode="fcfs", closes_in=timedelta(hours=2)))

    def room_known() -> bool:
        try:
            return registrations.get(f"/waiting-rooms/{with_room['id']}").data is not None
        except ApiError:
            return False
    wait_until(room_known, timeout=30, what="the campaign's room known to registrations")
    wait_until(lambda: datetime.now(timezone.utc) >= datetime.fromisoformat(open_campaign["opens_at"]), timeout=30,
               interval=0.2, what="the opening")
    application_id = registrations.post(
        "/applications", {"campaign_id": open_campaign["id"], "child_id": lea,
                          "choices": [open_campaign["offers"][0]["id"]], "sworn_statement": True},
        headers={"Idempotency-Key": uuid.uuid4().hex}).data["application_id"]
    wait_until(lambda: status_of(registrations, application_id) == "allocated", timeout=30, interval=0.5,
               what="the first-come place given")

    sign_in(page, stack.portal, account)
    for name, path in (
            ("campagnes", "/campagnes"), ("foyer", "/famille"),
            ("demande-avant-ouverture", f"/campagnes/{upcoming['id']}/enfants/{lea}"),
            ("demande-ouverte", f"/campagnes/{open_campaign['id']}/enfants/{lea}"),
            ("demande-campagne-inconnue", f"/campagnes/{uuid.uuid4()}/enfants/{lea}"),
            ("mes-demandes", "/demandes"), ("explication", f"/demandes/{application_id}/explication"),
            ("retrait", f"/demandes/{application_id}/retrait"), ("messages", "/messages"),
            # A first-come place: the page says why its choices are fixed (the form: tests/pages/test_change_choices.py).
            ("choix-fixes", f"/demandes/{application_id}/choix"),
            ("mes-donnees", "/mes-donnees")):
        page.goto(stack.portal + path)
        assert_no_violation(page, name)
    page.goto(f"{stack.portal}/campagnes/{with_room['id']}/enfants/{lea}")
    expect(page).to_have_url(re.compile(r"/attente$"))
    expect(page.get_by_role("heading", name="Salle d'attente")).to_be_visible()
    assert_no_violation(page, "salle-d-attente")
    # The form with its errors shown: sent without a choice nor the sworn statement.
    page.goto(f"{stack.portal}/campagnes/{open_campaign['id']}/enfants/{lea}")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.locator(".error").first).to_be_visible()
    assert_no_violation(page, "demande-erreurs")


def test_every_manager_page(stack, page):
    campaign = create_published_campaign(stack, lottery_campaign(timedelta(hours=1), f"Stages {uuid.uuid4().hex[:4]}",
                                                                 closes_in=timedelta(hours=2)))
    sign_in(page, stack.portal, stack.account("manager"))
    for name, path in (("gestion-campagnes", "/gestion"), ("gestion-nouvelle-campagne", "/gestion/campagnes/nouvelle"),
                       ("gestion-envois-en-echec", "/gestion/envois-en-echec"), ("gestion-courriers", "/gestion/courriers"),
                       ("gestion-courriers-imprimes", "/gestion/courriers?imprimes=oui")):
        page.goto(stack.portal + path)
        assert_no_violation(page, name)
    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    for summary in page.locator("summary").all():
        summary.click()  # every form open: its fields are checked too
    assert_no_violation(page, "gestion-campagne")
    # The new campaign's form with its errors shown (sent empty).
    page.goto(f"{stack.portal}/gestion/campagnes/nouvelle")
    page.locator("form[method=post] button[type=submit]").last.click()
    expect(page.locator(".error").first).to_be_visible()
    assert_no_violation(page, "gestion-nouvelle-campagne-erreurs")
    answer = page.goto(f"{stack.portal}/famille")  # a manager on a family's page
    assert answer.status == 403
    assert_no_violation(page, "refus-gestionnaire")


# --- the keyboard alone ----------------------------------------------------------------------------------

FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {text: (element.innerText || element.value || element.getAttribute('aria-label') || '').trim(),
          tag: element.tagName.toLowerCase(), id: element.id || '',
          outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
}"""


def tab_to(page, wanted, most: int = 80) -> dict:
    """Tab (forward) until the focused element is the one `wanted` recognises; every element passed on the way
    must show where the focus is (RGAA 10.7)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["outlined"], f"focus not visible on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached with {most} presses of Tab")


def test_a_family_signs_in_and_applies_with_the_keyboard_alone(stack, page):
    account = stack.account("parent")
    title = f"Clavier {uuid.uuid4().hex[:4]}"
    body = lottery_campaign(timedelta(seconds=3), title, mode="fcfs")
    body["waiting_room"] = False
    campaign = create_published_campaign(stack, body)
    declare_family(stack, account, "Léa", date(2016, 5, 14))
    wait_until(lambda: datetime.now(timezone.utc) >= datetime.fromisoformat(campaign["opens_at"]), timeout=30,
               interval=0.2, what="the opening")

    # Signing in: the provider's form puts the focus on the user name.
    page.goto(f"{stack.portal}/connexion")
    page.locator("#username").wait_for()
    assert_no_violation(page, "connexion")  # the provider's login page, in the realm's theme
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/campagnes$"))

    # The first Tab reaches the skip link, which leads to the content.
    assert tab_to(page, lambda f: True, most=1)["text"] == "Aller au contenu"
    tab_to(page, lambda f: f["tag"] == "a" and f["text"].startswith("Faire une demande")
           and title in f["text"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/enfants/"))

    tab_to(page, lambda f: f["id"] == "choice_1")
    page.keyboard.press("ArrowDown")  # the first activity
    expect(page.locator("#choice_1")).to_have_value(campaign["offers"][0]["id"])
    tab_to(page, lambda f: f["id"] == "sworn_statement")
    page.keyboard.press("Space")
    expect(page.locator("#sworn_statement")).to_be_checked()
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Envoyer ma demande")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Demande envoyée")).to_be_visible()
    expect(page.get_by_text("Place réservée", exact=True)).to_be_visible()
    tab_to(page, lambda f: f["text"] == "Voir mes demandes")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/demandes$"))
    expect(page.locator("main")).to_contain_text("Escalade — initiation")
