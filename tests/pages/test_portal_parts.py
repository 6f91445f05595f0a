"""The portal's parts that need no stack: problem+json turned into plain French, the forms' mapping
to the campaigns API and back, the client's behaviour against a real (tiny) HTTP server, and forms
refused without the session's anti-forgery token."""
import json
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.portal.app import create_app
from services.portal.client.api import ApiError, ServiceClient, problem_error
from services.portal.settings import SERVICES, PortalSettings
from services.portal.web.campaign_form import api_errors_to_form, campaign_fields, offer_fields, offer_to_form
from tests.support.servers import free_port


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


def test_api_paths_land_on_the_form_fields_that_hold_them():
    assert api_errors_to_form({"offers.0.tariffs_cents.6": "a", "policy.criteria.0": "b", "closes_at": "c",
                               "policy.lottery_weight_per_unsuccessful_year": "d"}) == {
        "offer_tariff_7": "a", "criteria": "b", "closes_at": "c", "lottery_weight": "d"}
    assert api_errors_to_form({"capacity": "e", "tariffs_cents": "f"}, offer_form=True) == {
        "offer_capacity": "e", "offer_tariff_1": "f"}


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]):
    """A real HTTP server on a free port for the test's duration; its URL."""
    handler.log_message = lambda self, *args: None
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


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


def test_a_form_posted_without_the_sessions_token_changes_nothing(dev_keys, recording_service):
    url, calls = recording_service
    settings = PortalSettings(service_name="portal", jwt_private_key_file=dev_keys[0], jwt_public_key_file=dev_keys[1],
                              dev_sign_in=True, **stand_in_for_every_service(url))
    browser = create_app(settings).test_client()

    forged = browser.post("/connexion", data={"account": "family-1", "role": "parent"})
    assert forged.status_code == 400 and "formulaire a expiré" in forged.text
    sign_in_page = browser.get("/connexion").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', sign_in_page).group(1)
    signed_in = browser.post("/connexion", data={"account": "family-1", "role": "parent", "csrf_token": token})
    assert signed_in.status_code == 302

    application = "0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c33"
    forged = browser.post(f"/demandes/{application}/accepter", data={"csrf_token": token})  # the old session's
    assert forged.status_code == 400 and calls == []  # nothing reached registrations
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/demandes").text).group(1)
    accepted = browser.post(f"/demandes/{application}/accepter", data={"csrf_token": token})
    assert accepted.status_code in (200, 302)
    assert f"POST /applications/{application}/accept" in calls


def test_without_the_development_sign_in_nobody_signs_in_and_no_key_is_made(tmp_path, dev_keys, recording_service):
    url, calls = recording_service
    private, public = tmp_path / "private.pem", dev_keys[1]  # the city's public key, mounted
    settings = PortalSettings(service_name="portal", jwt_private_key_file=private, jwt_public_key_file=public,
                              secret_key="a-secret-from-the-platform", **stand_in_for_every_service(url))
    browser = create_app(settings).test_client()
    page = browser.get("/connexion")
    assert page.status_code == 503 and "compte parisien" in page.text
    with browser.session_transaction() as session:
        session["csrf"] = "a-valid-form-token"
    posted = browser.post("/connexion", data={"account": "agent-1", "role": "manager", "csrf_token": "a-valid-form-token"})
    assert posted.status_code == 503
    with browser.session_transaction() as session:
        assert "token" not in session
    assert not private.exists() and calls == []

    without_secret = PortalSettings(service_name="portal", jwt_private_key_file=private, jwt_public_key_file=public,
                                    **stand_in_for_every_service(url))
    with pytest.raises(RuntimeError, match="GUICHET_PORTAL_SECRET_KEY"):
        create_app(without_secret)
