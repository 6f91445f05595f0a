"""Load shedding of parents' submissions at the WSGI layer (web/parents/shedding.py), around a plain WSGI app:
beyond the bound the app is never called, and a request let through holds its place until the app answered."""
import json

from prometheus_client import REGISTRY

from services.registrations.usecases.intake import InFlight
from services.registrations.web.parents.shedding import SLOT_TAKEN, ShedSubmissions

SHED_LABELS = {"service": "registrations", "endpoint": "/applications", "method": "POST", "status": "503"}


class App:
    """A WSGI app recording what it saw, and how many submissions were in flight while it ran."""

    def __init__(self, in_flight: InFlight):
        self.in_flight, self.seen = in_flight, []

    def __call__(self, environ, start_response):
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get(SLOT_TAKEN),
                          self.in_flight.serving))
        start_response("202 ACCEPTED", [("Content-Type", "application/json")])
        return [b"{}"]


def call(app, method: str, path: str) -> tuple[str, dict[str, str], bytes]:
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(app({"REQUEST_METHOD": method, "PATH_INFO": path}, start_response))
    return answer["status"], answer["headers"], body


def shed_count() -> float:
    return REGISTRY.get_sample_value("guichet_http_requests_total", SHED_LABELS) or 0.0


def test_beyond_the_bound_a_submission_is_refused_before_the_app_with_a_problem_and_retry_after():
    in_flight = InFlight(limit=1, retry_after_seconds=3)
    inner = App(in_flight)
    app = ShedSubmissions(inner, in_flight)
    before = shed_count()
    in_flight.enter()  # another submission is being served
    try:
        status, headers, body = call(app, "POST", "/applications")
    finally:
        in_flight.leave()

    assert status.startswith("503") and inner.seen == []
    assert headers["Content-Type"] == "application/problem+json" and headers["Retry-After"] == "3"
    assert int(headers["Content-Length"]) == len(body) and headers["X-Request-ID"]
    problem = json.loads(body)
    assert problem["code"] == "intake-saturated" and problem["status"] == 503 and problem["retry_after"] == 3
    assert shed_count() == before + 1, "a shed request is counted with the service's other answers"


def test_a_submission_let_through_holds_its_place_until_answered_and_other_requests_pass_untouched():
    in_flight = InFlight(limit=1)
    inner = App(in_flight)
    app = ShedSubmissions(inner, in_flight)
    in_flight.enter()
    try:  # the bound is full, yet a poll, a read of the applications and an agent's submission are not shed here
        for method, path in (("GET", "/waiting-rooms/c/place"), ("GET", "/applications"),
                             ("POST", "/agents/families/f/applications")):
            assert call(app, method, path)[0].startswith("202")
    finally:
        in_flight.leave()

    status, _, _ = call(app, "POST", "/applications")

    assert status.startswith("202")
    assert inner.seen[-1] == ("POST", "/applications", True, 1), "served holding its place, marked as such"
    assert all(taken is None for _, _, taken, _ in inner.seen[:-1])
    assert in_flight.serving == 0
