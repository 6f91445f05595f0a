"""One request id per request in registrations, decided once by the one RequestIdScope around every layer (app.py):
echoed by every path (the fast path's 202 and replay, Flask's route, the shedding's 503) and carried by the logs
written while the request is served, before Flask or inside it."""
import logging

import pytest

from services.registrations.bootstrap import RegistrationsComponents
from shared.observability import REQUEST_ID_HEADER, RequestIdScope, _RequestIdFilter
from tests.support.registrations import campaign_snapshot, offer

log = logging.getLogger("tests.registrations.request_ids")


class Collected(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(_RequestIdFilter())
        self.request_ids: list[str | None] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.request_ids.append(record.request_id)


@pytest.fixture
def logged_ids():
    handler = Collected()
    log.addHandler(handler)
    yield handler.request_ids
    log.removeHandler(handler)


@pytest.fixture
def components(registrations) -> RegistrationsComponents:
    return registrations.client.application.extensions[RegistrationsComponents.extension]


def scopes_around(app) -> int:
    layer, scopes = app.wsgi_app, 0
    while layer is not None:
        scopes += isinstance(layer, RequestIdScope)
        layer = getattr(layer, "app", None) or getattr(layer, "wsgi_app", None)
    return scopes


def test_one_scope_decides_the_id_for_every_layer(registrations):
    assert scopes_around(registrations.client.application) == 1


@pytest.mark.parametrize("client_id", ["rid-fast-1", None])
def test_the_fast_path_logs_and_echoes_the_id_of_a_202_and_of_its_replay(registrations, components, logged_ids,
                                                                         monkeypatch, client_id):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1)]))
    account, (child,) = registrations.family()
    acknowledged = components.intake.gate.acknowledged

    def logging_acknowledged(*args, **kwargs):
        log.warning("acknowledged")  # as a warning of the fast path would be, after the broker's answer
        return acknowledged(*args, **kwargs)

    monkeypatch.setattr(components.intake.gate, "acknowledged", logging_acknowledged)
    sent = {REQUEST_ID_HEADER: client_id} if client_id else {}
    accepted = registrations.submit(account, campaign, child, key="k-rid", headers_extra=sent)
    replay = registrations.submit(account, campaign, child, key="k-rid", headers_extra=sent)

    assert accepted.status_code == 202 and replay.status_code == 202 and replay.headers["Idempotent-Replayed"]
    answered, replayed = accepted.headers[REQUEST_ID_HEADER], replay.headers[REQUEST_ID_HEADER]
    if client_id:
        assert answered == replayed == client_id
    else:
        assert len(answered) == len(replayed) == 32 and answered != replayed, "a new id for each request"
    assert logged_ids == [answered], "the fast path's log carries the id its answer gives"


def test_a_submission_the_route_answers_logs_and_echoes_its_id(registrations, logged_ids):
    client = registrations.client
    client.application.before_request(lambda: log.warning("inside Flask"))
    refused = client.post("/applications", json={"campaign_id": "not a uuid"},
                          headers={"Authorization": f"Bearer {registrations.token_for('parent', 'family-x')}",
                                   "Idempotency-Key": "k-route", REQUEST_ID_HEADER: "rid-route-1"})
    anonymous = client.get("/healthz")

    assert refused.status_code == 422 and refused.headers[REQUEST_ID_HEADER] == "rid-route-1"
    made = anonymous.headers[REQUEST_ID_HEADER]
    assert len(made) == 32
    assert logged_ids == ["rid-route-1", made]


def test_a_shed_submission_echoes_the_id(registrations, components):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1)]))
    account, (child,) = registrations.family()
    in_flight = components.intake.in_flight
    in_flight.limit = 1
    in_flight.enter()
    try:
        shed = registrations.submit(account, campaign, child, headers_extra={REQUEST_ID_HEADER: "rid-shed-1"})
        shed_without = registrations.submit(account, campaign, child)
    finally:
        in_flight.leave()
    assert shed.status_code == shed_without.status_code == 503
    assert shed.headers[REQUEST_ID_HEADER] == "rid-shed-1"
    assert len(shed_without.headers[REQUEST_ID_HEADER]) == 32
