"""A parent's joins and polls answered before Flask (web/parents/waiting_room_fast.py), against real Redis: the
same places and documents as Flask's route gives, every refusal still Flask's own (the same auth rules), and a
503 + Retry-After at once beyond the process's bound, nothing written."""
import json
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

import redis
from flask import request
from werkzeug.test import Client

from services.registrations.domain.waiting_room import Phase, PlaceState, PollBudget
from services.registrations.store.waiting_room import IntakeLatency, RoomStore
from services.registrations.usecases.intake import InFlight
from services.registrations.usecases.waiting_room import PlaceView
from services.registrations.web.parents.shedding import ShedSubmissions
from services.registrations.web.parents.waiting_room_fast import POLL_BACKOFF, AnswerRoomBeforeFlask, place_json
from services.registrations.web.schemas import PlaceSchema
from shared.devtokens import ensure_dev_keys, issue_token
from tests.support.campaigns import MovableClock
from tests.support.registrations import campaign_snapshot
from tests.support.waiting_room import room_snapshot, room_terms, rooms_on


def fcfs_with_room(registrations, per_minute: int, opens_in=timedelta(minutes=-1)) -> dict:
    snapshot = campaign_snapshot(mode="fcfs", opens_in=opens_in)
    snapshot["waiting_room"] = room_snapshot(per_minute=per_minute)
    return registrations.publish_campaign(snapshot)


def fast_path(registrations) -> AnswerRoomBeforeFlask:
    layer = registrations.client.application.wsgi_app
    while not isinstance(layer, AnswerRoomBeforeFlask):
        layer = layer.app  # under the request id's scope
    return layer


def flask_only(registrations) -> Client:
    """A client of the app under the fast path: Flask's route answers everything."""
    return Client(fast_path(registrations).app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_joins_and_polls_skip_flask_and_give_the_places_the_route_gives(registrations):
    app = registrations.client.application
    seen_by_flask: list[str] = []
    app.before_request(lambda: seen_by_flask.append(request.path) and None)
    campaign = fcfs_with_room(registrations, per_minute=1)  # the first family is admitted, the others wait
    path = f"/waiting-rooms/{campaign['campaign_id']}/place"
    families = [registrations.family()[0] for _ in range(4)]
    joins = [registrations.client.put(path, headers=bearer(registrations.token_for("parent", f))) for f in families]
    assert [j.status_code for j in joins] == [200] * 4 and seen_by_flask == []
    assert joins[0].json["state"] == "admitted" and joins[0].json["admission_token"]
    assert [j.json["position"] for j in joins[1:]] == [1, 2, 3]  # arrival order after the opening
    assert all(j.headers["Content-Type"] == "application/json" and j.headers["Cache-Control"] == "no-store"
               and int(j.headers["Retry-After"]) == j.json["poll_after_seconds"] and j.headers["X-Request-ID"]
               for j in joins)

    # A second tab of the third family, through the fast path then through Flask's route: the same place.
    third = bearer(registrations.token_for("parent", families[2]))
    again = registrations.client.put(path, headers=third)
    polled = registrations.client.get(path, headers=third)
    by_flask = flask_only(registrations).get(path, headers=third)
    assert seen_by_flask == [path]  # only the last one
    stable = ("campaign_id", "state", "phase", "opens_at", "position", "ahead", "waiting", "joined_at",
              "admitted_at", "admission_token")
    for answer in (again, polled):
        assert {k: answer.json[k] for k in stable} == {k: by_flask.json[k] for k in stable}
        assert set(answer.json) == set(by_flask.json)
    assert again.json["joined_at"] == joins[2].json["joined_at"] and again.json["position"] == 2
    assert RoomStore(registrations.runtime.redis).queue_order(str(campaign["campaign_id"])) == families


def test_the_document_written_directly_is_the_schemas():
    opens = datetime(2026, 2, 4, 23, 1, tzinfo=UTC)
    waiting = PlaceView(campaign_id=uuid.uuid4(), state=PlaceState.WAITING, phase=Phase.OPEN, opens_at=opens,
                        position=12, ahead=11, waiting=4000, pace_per_minute=600, estimated_wait_seconds=72,
                        poll_after_seconds=9, joined_at=opens + timedelta(seconds=3, microseconds=1500),
                        admitted_at=None, admission_token=None, admission_token_expires_at=None)
    admitted = PlaceView(campaign_id=uuid.uuid4(), state=PlaceState.ADMITTED, phase=Phase.OPEN, opens_at=opens,
                         position=None, ahead=None, waiting=0, pace_per_minute=12.5, estimated_wait_seconds=None,
                         poll_after_seconds=3, joined_at=opens, admitted_at=opens + timedelta(minutes=2),
                         admission_token="abc.def", admission_token_expires_at=opens + timedelta(minutes=12))
    pre_queue = PlaceView(campaign_id=uuid.uuid4(), state=PlaceState.PRE_QUEUE, phase=Phase.PRE_QUEUE,
                          opens_at=opens, position=None, ahead=None, waiting=20_000, pace_per_minute=6000.0,
                          estimated_wait_seconds=None, poll_after_seconds=27, joined_at=opens - timedelta(minutes=5),
                          admitted_at=None, admission_token=None, admission_token_expires_at=None)
    for view in (waiting, admitted, pre_queue):
        assert json.loads(place_json(view)) == json.loads(json.dumps(PlaceSchema().dump(view)))


def test_every_refusal_is_flasks_own_the_same_auth_rules(registrations, make_settings, tmp_path):
    campaign = fcfs_with_room(registrations, per_minute=60)
    path = f"/waiting-rooms/{campaign['campaign_id']}/place"
    account = registrations.family()[0]
    tokens = make_settings("tokens")
    expired = issue_token(tokens, account, ["parent"], ttl_seconds=-120)
    private, public = tmp_path / "other.pem", tmp_path / "other.pub.pem"
    ensure_dev_keys(private, public)
    foreign = issue_token(make_settings("tokens", jwt_private_key_file=private, jwt_public_key_file=public),
                          account, ["parent"])
    cases = {
        "no token": ({}, 401, "token-missing"),
        "expired": (bearer(expired), 401, "token-expired"),
        "signed by another key": (bearer(foreign), 401, "invalid-token"),
        "a manager": (bearer(registrations.token_for("manager")), 403, "role-missing"),
        "not a bearer": ({"Authorization": f"Basic {expired}"}, 401, "token-missing"),
    }
    for name, (headers, status, code) in cases.items():
        for method in ("PUT", "GET"):
            served = registrations.client.open(path, method=method, headers=headers)
            by_flask = flask_only(registrations).open(path, method=method, headers=headers)
            assert (served.status_code, served.json["code"]) == (status, code), (name, method, served.json)
            assert served.json["detail"] == by_flask.json["detail"], name
            assert served.headers.get("WWW-Authenticate") == by_flask.headers.get("WWW-Authenticate"), name
    assert RoomStore(registrations.runtime.redis).queue_order(str(campaign["campaign_id"])) == []

    no_room = registrations.publish_campaign(campaign_snapshot(mode="fcfs"))
    unknown = registrations.client.put(f"/waiting-rooms/{no_room['campaign_id']}/place",
                                       headers=bearer(registrations.token_for("parent", account)))
    assert unknown.status_code == 404 and unknown.json["code"] == "waiting-room-not-found"


def test_beyond_the_bound_a_join_is_refused_at_once_and_nothing_is_written(registrations):
    campaign = fcfs_with_room(registrations, per_minute=60)
    path = f"/waiting-rooms/{campaign['campaign_id']}/place"
    account = registrations.family()[0]
    headers = bearer(registrations.token_for("parent", account))
    layer = fast_path(registrations)
    layer.in_flight, layer.polls_in_flight = InFlight(1), InFlight(1)
    layer.in_flight.enter()  # another join being served
    layer.polls_in_flight.enter()  # another poll
    try:
        busy = [registrations.client.put(path, headers=headers), registrations.client.get(path, headers=headers)]
    finally:
        layer.in_flight.leave()
        layer.polls_in_flight.leave()
    for refused in busy:
        assert refused.status_code == 503 and refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json["code"] == "waiting-room-busy" and refused.json["status"] == 503
        assert 2 <= int(refused.headers["Retry-After"]) == refused.json["retry_after"] <= 5
    assert RoomStore(registrations.runtime.redis).queue_order(str(campaign["campaign_id"])) == []

    joined = registrations.client.put(path, headers=headers)  # asked again after Retry-After
    assert joined.status_code == 200 and joined.json["state"] == "admitted" and layer.in_flight.serving == 0
    assert layer.polls_in_flight.serving == 0


def test_joins_and_polls_are_bounded_apart_so_a_crowd_of_joins_never_refuses_a_poll(registrations):
    campaign = fcfs_with_room(registrations, per_minute=60)
    path = f"/waiting-rooms/{campaign['campaign_id']}/place"
    waiting, joining = registrations.family()[0], registrations.family()[0]
    registrations.client.put(path, headers=bearer(registrations.token_for("parent", waiting)))
    layer = fast_path(registrations)
    layer.in_flight, layer.polls_in_flight = InFlight(1), InFlight(1)
    layer.in_flight.enter()  # the joins' bound is full
    try:
        polled = registrations.client.get(path, headers=bearer(registrations.token_for("parent", waiting)))
        refused = registrations.client.put(path, headers=bearer(registrations.token_for("parent", joining)))
    finally:
        layer.in_flight.leave()
    assert polled.status_code == 200 and polled.json["state"] == "admitted"
    assert refused.status_code == 503 and refused.json["code"] == "waiting-room-busy"
    layer.polls_in_flight.enter()  # the polls' bound is full
    try:
        joined = registrations.client.put(path, headers=bearer(registrations.token_for("parent", joining)))
        refused = registrations.client.get(path, headers=bearer(registrations.token_for("parent", waiting)))
    finally:
        layer.polls_in_flight.leave()
    assert joined.status_code == 200 and joined.json["state"] in ("waiting", "admitted")
    assert refused.status_code == 503 and "Arrival-Ticket" not in refused.headers


def test_a_refused_poll_comes_back_after_the_budgets_interval_a_refused_join_within_seconds(registrations):
    campaign = fcfs_with_room(registrations, per_minute=1)
    path = f"/waiting-rooms/{campaign['campaign_id']}/place"
    layer = fast_path(registrations)
    layer.rooms.poll_budget = PollBudget(polls_per_second=0.5)  # 1 family every 2 s: 40 waiting → 80 s, so 60 s
    for _ in range(41):
        family = registrations.family()[0]
        assert registrations.client.put(path, headers=bearer(registrations.token_for("parent", family))).status_code == 200
    headers = bearer(registrations.token_for("parent", family))
    layer.in_flight, layer.polls_in_flight = InFlight(1), InFlight(1)
    layer.in_flight.enter()
    layer.polls_in_flight.enter()
    try:
        polls = {int(registrations.client.get(path, headers=headers).headers["Retry-After"]) for _ in range(20)}
        joins = {int(registrations.client.put(path, headers=headers).headers["Retry-After"]) for _ in range(20)}
    finally:
        layer.in_flight.leave()
        layer.polls_in_flight.leave()
    assert polls <= set(range(48, 61)) and len(polls) > 1  # the budget's 60 s, shortened by up to 20 %
    assert joins <= {2, 3, 4, 5}


def test_a_refused_poll_that_sends_back_its_backoff_comes_back_no_sooner_than_the_room_would_say(registrations):
    """The place's answer gives the family's backoff (Poll-Backoff, the fast path's and Flask's alike); a busy
    process sends a poll that sends it back after it, to a fifth later, not after the crowd's interval."""
    campaign = fcfs_with_room(registrations, per_minute=1)
    path = f"/waiting-rooms/{campaign['campaign_id']}/place"
    layer = fast_path(registrations)
    layer.rooms.poll_budget = PollBudget(polls_per_second=0.5)  # 41 waiting: the crowd's interval is 60 s
    for _ in range(41):
        family = registrations.family()[0]
        joined = registrations.client.put(path, headers=bearer(registrations.token_for("parent", family)))
    headers = bearer(registrations.token_for("parent", family))
    polled = registrations.client.get(path, headers=headers)
    by_flask = flask_only(registrations).get(path, headers=headers)
    # 40 ahead at 1 a minute: far, the budget's 60 s less its jitter
    assert joined.headers[POLL_BACKOFF] == polled.headers[POLL_BACKOFF] == by_flask.headers[POLL_BACKOFF] == "48"
    layer.polls_in_flight = InFlight(1)
    layer.polls_in_flight.enter()
    try:
        refused = [registrations.client.get(path, headers=headers | {POLL_BACKOFF: "7"}) for _ in range(30)]
        unusable = {int(registrations.client.get(path, headers=headers | {POLL_BACKOFF: "07"}).headers["Retry-After"])
                    for _ in range(10)}
    finally:
        layer.polls_in_flight.leave()
    assert all(r.status_code == 503 and r.json["retry_after"] == int(r.headers["Retry-After"]) for r in refused)
    assert {int(r.headers["Retry-After"]) for r in refused} == {7, 8, 9}
    assert unusable <= set(range(48, 61))  # as a page that sends none: the crowd's interval


def test_a_join_refused_as_busy_keeps_its_arrival_order_with_its_ticket(registrations):
    campaign = fcfs_with_room(registrations, per_minute=1)  # the first family is admitted, the others wait
    path = f"/waiting-rooms/{campaign['campaign_id']}/place"
    head, refused, later, other = (registrations.family()[0] for _ in range(4))
    tokens = {family: registrations.token_for("parent", family) for family in (head, refused, later, other)}
    assert registrations.client.put(path, headers=bearer(tokens[head])).json["state"] == "admitted"
    layer = fast_path(registrations)
    layer.in_flight = InFlight(1)
    layer.in_flight.enter()
    try:
        busy = registrations.client.put(path, headers=bearer(tokens[refused]))
    finally:
        layer.in_flight.leave()
    assert busy.status_code == 503 and busy.json["code"] == "waiting-room-busy"
    ticket = busy.headers["Arrival-Ticket"]
    assert ticket == busy.json["arrival_ticket"]
    assert registrations.client.put(path, headers=bearer(tokens[later])).json["position"] == 1

    returned = registrations.client.put(path, headers=bearer(tokens[refused]) | {"Arrival-Ticket": ticket})
    assert returned.status_code == 200 and returned.headers["Arrival-Ticket-Outcome"] == "honoured"
    assert returned.json["position"] == 1
    assert registrations.client.get(path, headers=bearer(tokens[later])).json["position"] == 2

    # Flask's route reads the ticket alike: another family's is ignored, a fresh join at the back.
    foreign = flask_only(registrations).put(path, headers=bearer(tokens[other]) | {"Arrival-Ticket": ticket})
    assert foreign.status_code == 200 and foreign.headers["Arrival-Ticket-Outcome"] == "ignored-foreign"
    assert foreign.json["position"] == 3
    again = flask_only(registrations).put(path, headers=bearer(tokens[refused]) | {"Arrival-Ticket": ticket + "x"})
    assert again.headers["Arrival-Ticket-Outcome"] == "ignored-invalid" and again.json["position"] == 1
    assert RoomStore(registrations.runtime.redis).queue_order(str(campaign["campaign_id"])) == [head, refused, later,
                                                                                               other]


def test_the_refusal_gives_its_ticket_without_redis_nor_a_verified_token():
    opening = datetime(2026, 2, 4, 23, 1, tzinfo=UTC)
    campaign = room_terms(opening)
    with socket.socket() as probe:  # a port nothing listens on: any Redis call would fail the request
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = MovableClock(opening + timedelta(seconds=3))
    rooms = rooms_on(redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5), clock, campaign)
    in_flight = InFlight(1)
    in_flight.enter()

    def behind(environ, start_response):
        raise AssertionError("a refusal never reaches the app")

    layer = AnswerRoomBeforeFlask(behind, rooms, verifier=None, in_flight=in_flight,  # never asked: no verification
                                  polls_in_flight=in_flight)
    path = f"/waiting-rooms/{campaign.campaign_id}/place"
    refused = Client(layer).put(path, headers=bearer("not-even-a-jwt"))
    assert refused.status_code == 503 and refused.json["code"] == "waiting-room-busy"
    kept = rooms.arrival_tickets().verify(refused.headers["Arrival-Ticket"], str(campaign.campaign_id),
                                          "not-even-a-jwt", int(clock().timestamp() * 1000))
    assert kept.arrived_at_ms == int(clock().timestamp() * 1000)
    clock.advance(seconds=4)
    again = Client(layer).put(path, headers=bearer("not-even-a-jwt") | {"Arrival-Ticket": refused.json["arrival_ticket"]})
    carried = rooms.arrival_tickets().verify(again.headers["Arrival-Ticket"], str(campaign.campaign_id),
                                             "not-even-a-jwt", int(clock().timestamp() * 1000))
    assert (carried.ticket_id, carried.arrived_at_ms) == (kept.ticket_id, kept.arrived_at_ms)
    poll = Client(layer).get(path, headers=bearer("not-even-a-jwt"))
    assert poll.status_code == 503 and "Arrival-Ticket" not in poll.headers and "arrival_ticket" not in poll.json


def test_a_shedding_intake_lowers_the_pace_and_a_fast_one_raises_it_again(redis_client):
    """What the admitted families see steers the pace: intake's refusals (503 intake-saturated, before Flask) count
    as too slow; a submission's time counts from when the ingress received it."""
    opening = datetime(2026, 2, 4, 23, 1, tzinfo=UTC)
    campaign = room_terms(opening, per_minute=600)
    clock = MovableClock(opening + timedelta(seconds=1))
    rooms = rooms_on(redis_client, clock, campaign)
    rooms.join("family-a", campaign.campaign_id)
    saturated = InFlight(1)
    saturated.enter()  # intake serves as many submissions as it holds: every other one is shed

    def intake(environ, start_response):
        start_response("202 ACCEPTED", [("Content-Type", "application/json")])
        return [b"{}"]

    layer = AnswerRoomBeforeFlask(ShedSubmissions(intake, saturated), rooms, verifier=None, in_flight=InFlight(4))
    admitted = {"Admission-Token": "a.b", "Content-Type": "application/json"}
    paces = []
    for _ in range(3):  # 15 s of a shedding intake
        for _ in range(30):
            assert Client(layer).post("/applications", headers=admitted, data="{}").status_code == 503
        clock.advance(seconds=5)
        paces.append(rooms.place("family-a", campaign.campaign_id).pace_per_minute)
    assert paces[-1] < paces[0] < 600 and paces == sorted(paces, reverse=True)

    saturated.leave()  # intake answers again, at once
    for _ in range(3):
        for _ in range(30):
            assert Client(layer).post("/applications", headers=admitted, data="{}").status_code == 202
        clock.advance(seconds=5)
        paces.append(rooms.place("family-a", campaign.campaign_id).pace_per_minute)
    assert paces[-1] > paces[2]

    # Submissions without the room's token (no room) are not the room's measure; the ingress's X-Request-Start is.
    window = int(clock().timestamp()) // 5
    Client(layer).post("/applications", headers={"Content-Type": "application/json"}, data="{}")
    assert IntakeLatency(redis_client).histogram(window) == {}
    queued_since = f"t={time.time() - 0.7:.3f}"  # nginx's ${msec}: the request waited 0.7 s before this process
    Client(layer).post("/applications", headers=admitted | {"X-Request-Start": queued_since}, data="{}")
    assert IntakeLatency(redis_client).histogram(window) == {1000: 1}
