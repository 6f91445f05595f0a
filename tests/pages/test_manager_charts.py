"""The managers' charts on a campaign's page, drawn by the server (pygal) as SVG images, each served on its own
and shown with `<img alt>` giving its figures in words, the tables beside them: arrivals per minute while the
window is open, then the simulation's fill rate per offer and placement rate per priority level. Each image
answers image/svg+xml under its own policy (no script, its style sheet by hash), is kept by the browser while its
figures are the same, and is refused to a family as its page is. axe on the page with its charts."""
import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import expect

from shared.waiting import wait_until
from tests.support.accessibility import axe_violations
from tests.support.pages import create_published_campaign, declare_family, lottery_campaign, screenshot, sign_in

NBSP = "\u00a0"


def test_a_manager_reads_arrivals_fill_and_placement_rates_as_charts(stack, page, browser):
    title = f"Stages charts {uuid.uuid4().hex[:4]}"
    body = lottery_campaign(timedelta(seconds=6), title, capacity=2, mode="priority_lottery")
    body["waiting_room"] = False
    body["policy"]["criteria"] = [{"name": "single_parent", "max_tranche": None}]
    campaign = create_published_campaign(stack, body)
    offer_id = campaign["offers"][0]["id"]
    families = {name: stack.account("parent") for name in ("Inès", "Hugo", "Nora")}
    children = {name: declare_family(stack, account, name, date(2015, 3, 1), single_parent=name == "Nora")
                for name, account in families.items()}

    def applied(name):
        try:
            stack.parent("registrations", families[name]).post(
                "/applications", {"campaign_id": campaign["id"], "child_id": children[name], "choices": [offer_id],
                                  "sworn_statement": True}, headers={"Idempotency-Key": f"{campaign['id']}-{name}"})
        except Exception:  # noqa: BLE001 - refused until the window opens
            return False
        return True
    for name in families:
        wait_until(lambda name=name: applied(name), timeout=40, interval=0.5, what=f"{name}'s application")

    manager = stack.account("manager")
    sign_in(page, stack.portal, manager)
    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    arrivals = page.locator("#compteurs figure.chart img")
    expect(arrivals).to_have_attribute("alt", re.compile(r"^Demandes reçues par minute — \d\d h \d\d : \d"))
    counters = stack.manager("registrations").get(f"/applications/counters/{campaign['id']}").data
    assert sum(m["received"] for m in counters["per_minute"]) == 3
    wait_until(lambda: arrivals.evaluate("img => img.complete && img.naturalWidth > 0"), timeout=10,
               what="the arrivals chart loaded")
    svg = image_answer(page, stack.portal + arrivals.get_attribute("src"))
    assert svg.count('class="rect reactive') == len(counters["per_minute"][-10:])  # a column per minute shown
    expect(page.get_by_role("table", name="Par minute (heure de Paris)")).to_be_visible()  # the figures
    assert axe_violations(page) == []
    chart_path = arrivals.get_attribute("src").split("?")[0]
    a_chart_opened_alone(page, stack.portal + chart_path)
    a_family_is_refused_the_chart(browser, stack, chart_path)

    campaigns, allocation = stack.manager("campaigns"), stack.manager("allocation")
    campaigns.post(f"/campaigns/{campaign['id']}/close-early",
                   headers={"If-Match": campaigns.get(f"/campaigns/{campaign['id']}").headers["ETag"]})
    wait_until(lambda: allocation.get(f"/campaigns/{campaign['id']}/allocation").data["closed_at"], timeout=30,
               what="allocation told of the close")
    wait_until(lambda: allocation.post(f"/campaigns/{campaign['id']}/allocation/dry-run")
               .data["statistics"]["applications"] == 3, timeout=30, what="the three applications in allocation")

    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    fill = page.get_by_role("img", name=f"Taux de remplissage par activité — Escalade — initiation : 100{NBSP}%.")
    expect(fill).to_be_visible()
    assert f"Escalade — initiation : 100{NBSP}%" in image_answer(page, stack.portal + fill.get_attribute("src"))
    # The single parent's child is of the first level (placed); one of the two others is placed by lot.
    placement = page.get_by_role("img", name=f"Taux de placement par niveau de priorité — Niveau 1 : 100{NBSP}%; "
                                             f"Niveau 2 : 50{NBSP}%.")
    expect(placement).to_be_visible()
    assert f"Niveau 2 : 50{NBSP}%" in image_answer(page, stack.portal + placement.get_attribute("src"))
    expect(page.get_by_role("table", name="Simulation — par niveau de priorité")).to_contain_text("50 %")
    screenshot(page, "gestion-graphiques")
    assert axe_violations(page) == []

    # Published (four eyes when the service asks for them): the results' charts, their images under /resultats/.
    path = f"/campaigns/{campaign['id']}/allocation"
    if allocation.get(path).data["publication_needs_second_manager"]:
        allocation.post(f"{path}/publication-request")
        stack.client("allocation", stack.account("manager")).post(f"{path}/publication-request/approval")
    else:
        allocation.post(f"{path}/publish", headers={"Idempotency-Key": uuid.uuid4().hex})
    page.goto(f"{stack.portal}/gestion/campagnes/{campaign['id']}")
    expect(page.get_by_text("Résultats publiés le")).to_be_visible()
    published = page.get_by_role("img", name=re.compile(r"^Taux de placement par niveau de priorité — Niveau 1 : "))
    assert "/graphiques/resultats/placement.svg?v=" in published.get_attribute("src")
    assert f"Niveau 1 : 100{NBSP}%" in image_answer(page, stack.portal + published.get_attribute("src"))
    assert axe_violations(page) == []


def image_answer(page, url: str) -> str:
    """The chart's own answer, fetched with the manager's session: an SVG under a policy of its own (no script,
    the one style sheet by its hash), kept by the browser while its address names its figures, and a 304 for
    the same figures."""
    answer = page.request.get(url)
    assert answer.status == 200 and answer.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert re.fullmatch(r"default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; frame-ancestors 'none'; "
                        r"base-uri 'none'", answer.headers["content-security-policy"])
    assert set(answer.headers["cache-control"].split(", ")) == {"private", "max-age=86400", "immutable"}
    again = page.request.get(url, headers={"If-None-Match": answer.headers["etag"]})
    assert again.status == 304
    body = answer.text()
    assert body.startswith("<?xml") and "<svg" in body and "<script" not in body
    return body


def a_chart_opened_alone(page, url: str) -> None:
    """Opened as a document of its own, the SVG is drawn with its style sheet (the policy lets it through) and
    the browser reports no policy violation; without its version in the address it is revalidated, not kept."""
    refused = []

    def heard(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)
    page.on("console", heard)
    answer = page.goto(url)
    assert answer.headers["cache-control"] in ("private, no-cache", "no-cache, private")
    assert page.evaluate("getComputedStyle(document.querySelector('.plot .background')).fill") == "rgb(255, 255, 255)"
    assert page.evaluate("getComputedStyle(document.querySelector('.bars rect')).fill") == "rgb(11, 79, 156)"
    page.remove_listener("console", heard)
    assert refused == []


def a_family_is_refused_the_chart(browser, stack, path: str) -> None:
    """The image is authorised as its page is: a family gets the 403 page, someone signed out the sign-in."""
    context = browser.new_context(locale="fr-FR")
    try:
        family = context.new_page()
        answer = family.request.get(stack.portal + path, max_redirects=0)
        assert answer.status == 302 and "/connexion" in answer.headers["location"]
        sign_in(family, stack.portal, stack.account("parent"))
        answer = family.request.get(stack.portal + path)
        assert answer.status == 403 and answer.headers["content-type"].startswith("text/html")
        assert "<svg" not in answer.text()
    finally:
        context.close()
