"""The portal's parts that need no stack: problem+json turned into plain French, the forms' mapping
to the campaigns API and back, the client's behaviour against a real (tiny) HTTP server, and forms
refused without the session's anti-forgery token."""
import html
import json
import re
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from services.portal.app import create_app
from services.portal.client.api import ApiError, ServiceClient, problem_error
from services.portal.settings import SERVICES, PortalSettings
from services.portal.web.campaign_form import (
    api_errors_to_form,
    campaign_fields,
    campaign_to_form,
    offer_fields,
    offer_to_form,
)
from tests.support.keycloak import PORTAL_SECRET
from tests.support.servers import free_port
from tests.support.stub_http import serving


def problem(status: int, code: str, **extra) -> bytes:
    return json.dumps({"type": f"urn:guichet:problem:{code}", "status": status, "code": code, **extra}).encode()


def test_retry_advice_comes_from_retry_after():
    error = problem_error(503, {"Retry-After": "7"}, problem(503, "intake-unavailable", detail="Your application was not recorded."))
    assert error.retry_after == 7
    assert error.message == "Votre demande n'a pas été enregistrée : le service est très sollicité. Réessayez dans 7 s."
    limited = problem_error(429, {}, problem(429, "rate-limited", retry_after=12))
    assert limited.message.endswith("Réessayez dans 12 s.")


def test_field_errors_are_said_in_french_and_unknown_codes_fall_back_on_french_details():
    error = problem_error(422, {}, problem(422, "application-invalid", errors=[
        {"field": "choices.1", "code": "age-out-of-range", "detail": "The child is too old for this offer."},
        {"field": "sworn_statement", "code": "sworn-statement-required", "detail": "Certify."}]))
    assert error.field_errors == {"choices.1": "L'âge de l'enfant ne correspond pas à cette activité.",
                                  "sworn_statement": "Cochez l'attestation sur l'honneur."}
    campaign = problem_error(422, {}, problem(422, "unprocessable", detail="The campaign would break the rules.",
                                              errors=[{"field": "closes_at", "detail": "La clôture suit l'ouverture."}]))
    assert campaign.message == "Certains champs sont à corriger."
    assert campaign.field_errors == {"closes_at": "La clôture suit l'ouverture."}
    assert problem_error(502, {}, b"<html>bad gateway</html>").code == "http-502"


def test_offer_form_reads_euros_and_names_what_it_cannot_read():
    form = {f"offer_tariff_{t}": f"{t},50" for t in range(1, 11)}
    form.update(offer_title="Voile", offer_site="Villette", offer_arrondissement="19", offer_starts_on="2027-07-01",
                offer_ends_on="2027-07-05", offer_min_age="7", offer_max_age="12", offer_capacity="dix",
                offer_waitlist_limit="", offer_tariff_3="3.5 €")
    errors: dict[str, str] = {}
    offer = offer_fields(form, errors)
    assert offer["tariffs_cents"][:3] == [150, 250, 350] and offer["waitlist_limit"] is None
    assert errors == {"offer_capacity": "Indiquez un nombre entier."}
    assert offer_to_form({**offer, "capacity": 10})["offer_tariff_3"] == "3,50"
    offer_fields({**form, "offer_tariff_4": "1,234"}, errors := {})
    assert set(errors) == {"offer_tariff_4", "offer_capacity"}


def test_criteria_keep_the_form_order_and_the_threshold():
    errors: dict[str, str] = {}
    fields = campaign_fields({"criterion_not_placed_previous_campaign": "oui", "criterion_quotient_tranche_at_most": "oui",
                              "max_tranche": "4", "max_choices": "3", "acceptance_delay_hours": "48",
                              "mode": "priority_lottery"}, errors)
    assert fields["policy"]["criteria"] == [{"name": "quotient_tranche_at_most", "max_tranche": 4},
                                            {"name": "not_placed_previous_campaign"}]
    assert errors == {}


def test_the_lifecycle_terms_go_to_the_api_and_come_back_to_the_form_unchanged():
    form = {"max_choices": "3", "acceptance_delay_hours": "48", "mode": "lottery", "acceptance_margin_hours": "36",
            "waitlist_closes_at": "2027-07-01T12:00:00", "free_withdrawal_until": "2027-06-20T23:59:59",
            "late_withdrawal_fee": "3,50"}
    fields = campaign_fields(form, errors := {})
    assert errors == {}
    assert fields["policy"]["acceptance_margin_hours"] == 36 and fields["late_withdrawal_fee_cents"] == 350
    assert (fields["waitlist_closes_at"], fields["free_withdrawal_until"]) == ("2027-07-01T12:00:00",
                                                                              "2027-06-20T23:59:59")
    # As the API answers: Paris offsets on instants; the form shows Paris wall-clock time and euros.
    campaign = {"title": "T", "kind": "sport_vacances", "opens_at": "2027-05-01T00:01:00+02:00",
                "closes_at": "2027-05-08T23:59:00+02:00", "reference_date": "2027-07-01", "max_choices": 3,
                "policy": fields["policy"], "waitlist_closes_at": "2027-07-01T12:00:00+02:00",
                "free_withdrawal_until": "2027-06-20T23:59:59+02:00", "late_withdrawal_fee_cents": 350}
    shown = campaign_to_form(campaign)
    for name in ("acceptance_margin_hours", "waitlist_closes_at", "free_withdrawal_until", "late_withdrawal_fee"):
        assert str(shown[name]) == form[name], name


def test_empty_lifecycle_fields_mean_the_rules_defaults_and_a_bad_fee_names_its_field():
    fields = campaign_fields({"max_choices": "3", "acceptance_delay_hours": "48", "mode": "lottery"}, errors := {})
    assert errors == {} and "acceptance_margin_hours" not in fields["policy"]  # the API's 24 h, or the kept value
    assert fields["waitlist_closes_at"] is fields["free_withdrawal_until"] is fields["late_withdrawal_fee_cents"] is None
    campaign_fields({"late_withdrawal_fee": "trois euros"}, errors := {})
    assert "late_withdrawal_fee" in errors
    assert api_errors_to_form({"late_withdrawal_fee_cents": "x"}) == {"late_withdrawal_fee": "x"}


def test_api_paths_land_on_the_form_fields_that_hold_them():
    assert api_errors_to_form({"offers.0.tariffs_cents.6": "a", "policy.criteria.0": "b", "closes_at": "c",
                               "policy.lottery_weight_per_unsuccessful_year": "d"}) == {
        "offer_tariff_7": "a", "criteria": "b", "closes_at": "c", "lottery_weight": "d"}
    assert api_errors_to_form({"capacity": "e", "tariffs_cents": "f"}, offer_form=True) == {
        "offer_capacity": "e", "offer_tariff_1": "f"}


@pytest.fixture
def flaky_intake():
    """Answers 409 idempotency-key-in-flight twice, then the 202 the first request earned."""
    calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — http.server's naming
            calls.append(self.headers["Idempotency-Key"])
            self.rfile.read(int(self.headers["Content-Length"]))
            if len(calls) <= 2:
                body, status, headers = problem(409, "idempotency-key-in-flight"), 409, {"Retry-After": "0"}
            else:
                body, status, headers = json.dumps({"application_id": "a-1"}).encode(), 202, {}
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler) as url:
        yield url, calls


def test_a_press_while_the_first_is_answered_gets_the_first_answer(flaky_intake):
    url, calls = flaky_intake
    answer = ServiceClient("registrations", url).post("/applications", {"x": 1}, headers={"Idempotency-Key": "k-1"})
    assert (answer.status, answer.data, calls) == (202, {"application_id": "a-1"}, ["k-1", "k-1", "k-1"])


def test_a_service_that_does_not_answer_is_said_plainly():
    with pytest.raises(ApiError) as raised:
        ServiceClient("campaigns", f"http://127.0.0.1:{free_port()}", timeout=2).get("/public/campaigns")
    assert raised.value.status == 503 and raised.value.code == "service-unreachable"
    assert raised.value.message.startswith("Le service ne répond pas pour le moment.")


@pytest.fixture
def recording_service():
    """A stand-in for every service the portal calls, as a real HTTP server: it records each request."""
    calls: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            calls.append(f"{self.command} {self.path}")
            body = json.dumps({"application_id": "a-1", "status": "confirmed"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815 — http.server's naming

    with serving(Handler) as url:
        yield url, calls


def stand_in_for_every_service(url: str) -> dict[str, str]:
    """The portal's settings pointing all four services at one stand-in."""
    return {f"{name}_url": url for name in SERVICES}


@pytest.fixture
def portal(oidc_provider, redis_client, redis_url, recording_service):
    """The portal in-process (Flask's test client), signing in at the real provider, its services a stand-in."""
    url, calls = recording_service
    settings = PortalSettings(service_name="portal", redis_url=redis_url, oidc_issuer=oidc_provider.issuer,
                              oidc_client_secret=PORTAL_SECRET, secret_key="a-secret-from-the-platform",
                              **stand_in_for_every_service(url))
    return create_app(settings).test_client(), calls


def provider_login(browser, start: str, account) -> tuple[str, requests.Session]:
    """Follow the portal's redirect to the provider, fill its login form (as a person's browser would, with
    requests), and return the portal's callback path with its code and state."""
    to_provider = browser.get(start)
    assert to_provider.status_code == 302
    query = parse_qs(urlsplit(to_provider.location).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] and query["nonce"]
    provider = requests.Session()
    form = provider.get(to_provider.location, timeout=10)
    for cookie in provider.cookies:  # Keycloak's cookies are Secure; a browser keeps them on loopback, requests not
        cookie.secure = False
    action = html.unescape(re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', form.text).group(1))
    back = provider.post(action, data={"username": account.username, "password": account.password},
                         allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:500]
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/connexion/retour"
    return f"{callback.path}?{callback.query}", provider


def csrf_of(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def test_signing_in_keeps_the_tokens_server_side_and_a_form_needs_the_sessions_token(portal, oidc_provider):
    browser, calls = portal
    account = oidc_provider.admin().create_account("parent")
    callback, _ = provider_login(browser, "/connexion", account)
    signed_in = browser.get(callback)
    assert signed_in.status_code == 302 and signed_in.location == "/campagnes"
    cookie = browser.get_cookie("guichet_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert "eyJ" not in cookie.value and len(cookie.value) < 120  # a signed id, no token

    application = "0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c33"
    forged = browser.post(f"/demandes/{application}/accepter", data={})
    assert forged.status_code == 400 and "formulaire a expiré" in forged.text and calls == []
    token = csrf_of(browser.get("/au-revoir").text)
    accepted = browser.post(f"/demandes/{application}/accepter", data={"csrf_token": token})
    assert accepted.status_code in (200, 302)
    assert f"POST /applications/{application}/accept" in calls


def test_a_wrong_state_or_a_replayed_code_gives_a_clear_page_and_no_session(portal, oidc_provider):
    browser, _ = portal
    account = oidc_provider.admin().create_account("parent")
    callback, _ = provider_login(browser, "/connexion", account)
    wrong_state = re.sub(r"state=[^&]+", "state=forged", callback)
    refused = browser.get(wrong_state)
    assert refused.status_code == 400 and "Connexion impossible" in refused.text
    assert browser.get("/campagnes").status_code == 302  # not signed in: sent to the provider

    callback, _ = provider_login(browser, "/connexion", account)
    assert browser.get(callback).status_code == 302
    browser.post("/deconnexion", data={"csrf_token": csrf_of(browser.get("/au-revoir").text)})
    replayed = browser.get(callback)  # the same code and state, once more
    assert replayed.status_code == 400 and "Connexion impossible" in replayed.text
    assert browser.get("/campagnes").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/", "/%09/evil.example/", "/\\evil.example", "https://evil.example/",
                                    "/\t/evil.example/", "javascript:alert(1)"])
def test_after_sign_in_only_a_path_of_the_portal_is_followed(portal, oidc_provider, target):
    browser, _ = portal
    account = oidc_provider.admin().create_account("parent")
    callback, _ = provider_login(browser, f"/connexion?next={quote(target, safe='')}", account)
    assert browser.get(callback).location == "/campagnes"


def test_after_sign_in_the_page_asked_for_is_shown(portal, oidc_provider):
    browser, _ = portal
    account = oidc_provider.admin().create_account("parent")
    asked = browser.get("/demandes?page=2")
    assert asked.status_code == 302 and asked.location.startswith("/connexion?next=")
    callback, _ = provider_login(browser, asked.location, account)
    assert browser.get(callback).location == "/demandes?page=2"


def test_every_page_carries_the_security_headers_and_secure_cookies_off_localhost(portal, oidc_provider):
    browser, _ = portal
    answer = browser.get("/au-revoir")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in answer.headers  # localhost
    remote = browser.get("/connexion", base_url="https://portail.paris.example")
    assert "Secure" in remote.headers["Set-Cookie"] and "HttpOnly" in remote.headers["Set-Cookie"]
    assert remote.headers["Strict-Transport-Security"].startswith("max-age=")
    local = browser.get("/connexion")
    assert "Secure" not in local.headers["Set-Cookie"]


def test_sign_out_ends_the_session_server_side_and_at_the_provider(portal, oidc_provider, redis_client):
    browser, _ = portal
    admin = oidc_provider.admin()
    account = admin.create_account("parent")
    callback, _ = provider_login(browser, "/connexion", account)
    browser.get(callback)
    stolen = browser.get_cookie("guichet_session").value
    assert "Se déconnecter" in browser.get("/au-revoir").text and len(redis_client.keys("portal:session:*")) == 1
    assert admin.sessions_of(account.subject)
    out = browser.post("/deconnexion", data={"csrf_token": csrf_of(browser.get("/au-revoir").text)})
    assert out.status_code == 302 and out.location.startswith(f"{oidc_provider.issuer}/protocol/openid-connect/logout")
    assert "id_token_hint=" in out.location
    ended = requests.get(out.location, timeout=10, allow_redirects=False)  # the browser follows
    assert ended.status_code == 302 and ended.headers["Location"] == "http://localhost/au-revoir"
    assert admin.sessions_of(account.subject) == []
    assert redis_client.keys("portal:session:*") == []
    browser.set_cookie("guichet_session", stolen)  # the old cookie, replayed
    assert browser.get("/demandes").status_code == 302
    assert "Se déconnecter" not in browser.get("/au-revoir").text


def test_without_a_secret_or_a_provider_the_portal_does_not_start(recording_service):
    url, _ = recording_service
    with pytest.raises(RuntimeError, match="GUICHET_PORTAL_SECRET_KEY"):
        create_app(PortalSettings(service_name="portal", oidc_issuer="https://id.example",
                                  **stand_in_for_every_service(url)))
    with pytest.raises(RuntimeError, match="OIDC_ISSUER"):
        create_app(PortalSettings(service_name="portal", secret_key="s", **stand_in_for_every_service(url)))


def test_the_portal_stays_in_service_when_a_service_it_calls_is_down_but_not_without_its_sessions(
        redis_url, recording_service):
    url, _ = recording_service
    down = f"http://127.0.0.1:{free_port()}"
    own = dict(service_name="portal", oidc_issuer="https://id.example", secret_key="s")
    degraded = create_app(PortalSettings(redis_url=redis_url, **own, **{**stand_in_for_every_service(url),
                                                                        "allocation_url": down}))
    answer = degraded.test_client().get("/readyz")
    assert (answer.status_code, answer.json["status"]) == (200, "degraded")
    assert {name for name, check in answer.json["checks"].items() if not check["ready"]} == {"allocation"}

    without_sessions = create_app(PortalSettings(redis_url=f"redis://127.0.0.1:{free_port()}/0", **own,
                                                 **stand_in_for_every_service(url)))
    answer = without_sessions.test_client().get("/readyz")
    assert (answer.status_code, answer.json["status"]) == (503, "unready")
    assert {name for name, check in answer.json["checks"].items() if not check["ready"]} == {"redis"}


def test_the_explanation_names_the_criteria_met_and_each_choices_cutoff(portal):
    browser, _ = portal
    from flask import render_template

    from services.portal.wording import CRITERIA, OUTCOMES, PLACE_STATES, REASONS, STANDINGS

    first, second = "0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c01", "0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c02"
    explanation = {
        "application_id": "0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c33", "campaign_id": "c-1", "outcome": "allocated",
        "offer_id": second, "waitlist": [], "reasons": [], "tie_break_kind": "lottery", "lottery_number": "0.4172",
        "arrival_rank": None, "tickets": 1, "sibling_group": [], "decided_on_arrival": False, "place": None,
        "decided_at": "2026-12-04T12:00:00Z",
        "choices": [
            {"offer_id": first, "rank": 1, "tier": 2, "criteria_met": ["single_parent"], "standing": "not_admitted",
             "waitlist_position": 4, "cutoffs": [
                 {"seats": "open", "tier": 1, "lottery_number": "0.1034", "arrival_rank": None},
                 {"seats": "quotient_tranche_at_most(3)", "tier": 2, "lottery_number": "0.2519", "arrival_rank": None}]},
            {"offer_id": second, "rank": 2, "tier": 3, "criteria_met": [], "standing": "admitted",
             "waitlist_position": None, "cutoffs": []},
        ],
    }
    with browser.application.test_request_context("/demandes/x/explication"):
        page = render_template("parents/explanation.html", x=explanation, criteria=CRITERIA, outcomes=OUTCOMES,
                               standings=STANDINGS, reasons=REASONS, place_states=PLACE_STATES,
                               names={"title": "Stages", "offers": {first: "Voile", second: "Escalade"}})
    rows = re.findall(r'<tr data-choice="\d">(.*?)</tr>', page, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert "Voile" in text[0] and CRITERIA["single_parent"] in text[0]
    assert "places ouvertes à tous : niveau 1, numéro 0.1034" in text[0]
    assert "places réservées (quotient familial jusqu'à la tranche 3) : niveau 2, numéro 0.2519" in html.unescape(text[0])
    assert "Escalade" in text[1] and "aucun" in text[1]
    assert "Votre numéro de tirage" in page and "0.4172" in page
    assert "3975" in page  # the help channel, in the footer of every page


def signed_in_at_the_waiting_page(url: str, oidc_provider, redis_url: str):
    """A parent signed in to the portal, whose services are all the stand-in at `url`; the waiting page's path."""
    settings = PortalSettings(service_name="portal", redis_url=redis_url, oidc_issuer=oidc_provider.issuer,
                              oidc_client_secret=PORTAL_SECRET, secret_key="a-secret-from-the-platform",
                              **stand_in_for_every_service(url))
    browser = create_app(settings).test_client()
    callback, _ = provider_login(browser, "/connexion", oidc_provider.admin().create_account("parent"))
    assert browser.get(callback).status_code == 302
    return browser, "/campagnes/0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c33/enfants/5d0e6a6c-7a8b-4c1d-9e2f-3a4b5c6d7e8f/attente"


@pytest.fixture
def busy_room():
    """Registrations' waiting room as a real HTTP server: its first join answered 503 waiting-room-busy."""
    joins: list[str] = []
    carried: list[str | None] = []  # each join's Arrival-Ticket header

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, document: dict, headers: dict[str, str] | None = None):
            body = json.dumps(document).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)),
                                **(headers or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 — http.server's naming
            self._send(200, {"phase": "open", "opens_at": "2026-02-04T23:01:00+00:00",
                             "pre_queue_opens_at": "2026-02-04T22:31:00+00:00"})

        def do_PUT(self):  # noqa: N802
            joins.append(self.path)
            carried.append(self.headers.get("Arrival-Ticket"))
            if len(joins) == 1:
                self._send(503, {"type": "urn:guichet:problem:waiting-room-busy", "status": 503,
                                 "code": "waiting-room-busy", "retry_after": 3, "arrival_ticket": "v1.first.sig"},
                           {"Retry-After": "3", "Arrival-Ticket": "v1.first.sig"})
            else:
                self._send(200, {"state": "waiting", "position": 40, "ahead": 39, "waiting": 900, "pace_per_minute": 60.0,
                                 "estimated_wait_seconds": 2400, "poll_after_seconds": 9, "admission_token": None})

    with serving(Handler) as url:
        yield url, joins, carried


def test_a_busy_waiting_room_gives_the_family_its_place_back_after_retry_after(oidc_provider, redis_url, busy_room):
    url, joins, carried = busy_room
    browser, path = signed_in_at_the_waiting_page(url, oidc_provider, redis_url)

    busy = browser.get(path)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "3"
    assert "votre ordre d'arrivée est gardé, et nous vous\n    redonnons votre place dans 3 secondes" in busy.text
    assert '<meta http-equiv="refresh" content="3">' in busy.text and 'data-busy="oui"' in busy.text

    again = browser.get(path)  # the page's own refresh, after Retry-After
    assert again.status_code == 200 and len(joins) == 2
    assert "redonnons" not in again.text and 'data-field="position">40<' in again.text
    assert carried == [None, "v1.first.sig"]  # the refused join's arrival ticket, sent back once
    browser.get(path)
    assert carried[-1] is None


def test_the_waiting_page_carries_the_rooms_poll_backoff_both_ways(oidc_provider, redis_url):
    """Registrations gives each place a Poll-Backoff (how long a refused poll waits): the page gets it with the
    place, its script sends it back with the next poll, and the portal passes it on (digits only) to registrations,
    whose refusals, and the edge's, then follow it."""
    sent: list[str | None] = []  # the Poll-Backoff of each poll registrations received

    class Handler(BaseHTTPRequestHandler):
        def _send(self, document: dict, headers: dict[str, str]):
            body = json.dumps(document).encode()
            self.send_response(200)
            for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 — http.server's naming
            if not self.path.endswith("/place"):
                self._send({"phase": "open", "opens_at": "2026-02-04T23:01:00+00:00",
                            "pre_queue_opens_at": "2026-02-04T22:31:00+00:00"}, {})
                return
            sent.append(self.headers.get("Poll-Backoff"))
            self._send(WAITING | {"poll_after_seconds": 40}, {"Retry-After": "40", "Poll-Backoff": "37"})

        def do_PUT(self):  # noqa: N802
            self._send(WAITING, {"Retry-After": "9", "Poll-Backoff": "12"})

    WAITING = {"state": "waiting", "position": 40, "ahead": 39, "waiting": 900, "pace_per_minute": 60.0,
               "estimated_wait_seconds": 2400, "poll_after_seconds": 9, "admission_token": None}
    with serving(Handler) as url:
        browser, path = signed_in_at_the_waiting_page(url, oidc_provider, redis_url)

        page = browser.get(path)  # the join's backoff, for the script's first poll
        assert page.status_code == 200 and 'data-poll-backoff="12"' in page.text
        first = browser.get(path + "/etat", headers={"Poll-Backoff": "12"})
        assert first.status_code == 200 and first.headers["Poll-Backoff"] == "37"
        assert first.headers["Retry-After"] == "40" and first.json["poll_backoff"] == 37
        browser.get(path + "/etat", headers={"Poll-Backoff": "37"})
        browser.get(path + "/etat", headers={"Poll-Backoff": "37, 1"})
        browser.get(path + "/etat")
    assert sent == ["12", "37", None, None]


def test_a_join_refused_at_the_edge_sends_back_its_join_backoff_with_the_next_join(oidc_provider, redis_url):
    """The edge keeps no place for a join it refuses (no arrival ticket): the page's next join sends back the
    refusal's Retry-After as Join-Backoff, so that, refused again, the edge tells it to wait longer; once the family
    has its place, nothing more is sent."""
    sent: list[str | None] = []  # each join's Join-Backoff header
    refusals = iter(["17", "40"])

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, document: dict, headers: dict[str, str]):
            body = json.dumps(document).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 — http.server's naming
            self._send(200, {"phase": "open", "opens_at": "2026-02-04T23:01:00+00:00",
                             "pre_queue_opens_at": "2026-02-04T22:31:00+00:00"}, {})

        def do_PUT(self):  # noqa: N802
            sent.append(self.headers.get("Join-Backoff"))
            retry = next(refusals, None)
            if retry is not None:  # as the edge refuses: no arrival ticket, Shed-By: edge
                self._send(503, {"type": "urn:guichet:problem:waiting-room-busy", "status": 503,
                                 "code": "waiting-room-busy", "retry_after": int(retry)},
                           {"Retry-After": retry, "Join-Backoff": retry, "Shed-By": "edge"})
            else:
                self._send(200, {"state": "waiting", "position": 40, "ahead": 39, "waiting": 900,
                                 "pace_per_minute": 60.0, "estimated_wait_seconds": 2400, "poll_after_seconds": 9,
                                 "admission_token": None}, {"Retry-After": "9"})

    with serving(Handler) as url:
        browser, path = signed_in_at_the_waiting_page(url, oidc_provider, redis_url)

        first = browser.get(path)
        assert first.status_code == 503 and first.headers["Retry-After"] == "17"
        # refused without an arrival ticket: the page promises no kept place
        assert "ordre d'arrivée est gardé" not in first.text
        assert "vous n'avez pas encore de place dans la file" in first.text and "dans 17 secondes" in first.text
        second = browser.get(path)
        assert second.status_code == 503 and second.headers["Retry-After"] == "40"
        assert browser.get(path).status_code == 200
        browser.get(path)
    assert sent == [None, "17", "40", None]
