"""A parent's submission answered before Flask (web/parents/intake_fast.py), against the real broker and Redis:
the same 202 and replay as Flask's route gives, byte for byte; every other answer still the route's own (the same
problems), a body the schema refuses never taken, and nothing counted or claimed twice when the route answers a
submission the fast path ran."""
import json
import uuid
from datetime import UTC, datetime

import pytest
from flask import request
from werkzeug.test import Client

from services.registrations.store.intake_guard import Hold
from services.registrations.usecases.intake import Acknowledgement
from services.registrations.web.parents.intake_fast import (
    AnswerIntakeBeforeFlask,
    acknowledgement,
    acknowledgement_json,
    submission_fields,
)
from services.registrations.web.schemas import AcknowledgementSchema, SubmissionSchema
from shared.observability import HTTP_REQUESTS
from tests.support.registrations import campaign_snapshot, offer


def fast_path(registrations) -> AnswerIntakeBeforeFlask:
    layer = registrations.client.application.wsgi_app
    while not isinstance(layer, AnswerIntakeBeforeFlask):
        layer = layer.app
    return layer


def flask_only(registrations) -> Client:
    """A client of the app under the fast path: Flask's route answers every submission."""
    return Client(fast_path(registrations).app)


def seen_by_flask(registrations) -> list[str]:
    seen: list[str] = []
    registrations.client.application.before_request(lambda: seen.append(request.path) and None)
    return seen


def post(client, registrations, account: str, body, key: str | None, **headers):
    sent = {"Authorization": f"Bearer {registrations.token_for('parent', account)}", **headers}
    if key is not None:
        sent["Idempotency-Key"] = key
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/applications", data=data, headers=sent, content_type="application/json")


def body_of(campaign: dict, child, **extra) -> dict:
    return {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child),
            "choices": [str(campaign["offers"][0]["offer_id"])], "sworn_statement": True, **extra}


def test_a_submission_and_its_replay_skip_flask_and_answer_as_the_route_does(registrations, redis_client):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1,
                                                                                          waitlist_limit=5)]))
    seen = seen_by_flask(registrations)
    accepted_before = HTTP_REQUESTS.labels("registrations", "/applications", "POST", "202")._value.get()
    fast_family, (fast_child,) = registrations.family()
    flask_family, (flask_child,) = registrations.family()

    by_flask = post(flask_only(registrations), registrations, flask_family, body_of(campaign, flask_child), "k-f")
    assert seen == ["/applications"] and by_flask.status_code == 202, by_flask.json
    fast = post(registrations.client, registrations, fast_family, body_of(campaign, fast_child), "k-q",
                **{"X-Request-ID": "req-fast-1"})
    assert fast.status_code == 202, fast.json
    assert seen == ["/applications"], "the fast path answered it"
    assert fast.headers["X-Request-ID"] == "req-fast-1" and by_flask.headers["X-Request-ID"]
    assert sorted(fast.headers.keys()) == sorted(by_flask.headers.keys())
    assert fast.headers["Content-Type"] == by_flask.headers["Content-Type"] == "application/json"
    assert int(fast.headers["Content-Length"]) == len(fast.get_data())
    assert fast.headers["Location"] == fast.json["status_url"] == f"/applications/{fast.json['application_id']}"
    assert set(fast.json) == set(by_flask.json)
    assert fast.json["hold"]["kind"] == "waitlisted" and by_flask.json["hold"]["kind"] == "held"
    assert HTTP_REQUESTS.labels("registrations", "/applications", "POST", "202")._value.get() == accepted_before + 2

    # Each replayed through the other path: the same bytes and headers as each one's first answer.
    fast_replay = post(registrations.client, registrations, flask_family, body_of(campaign, flask_child), "k-f")
    flask_replay = post(flask_only(registrations), registrations, fast_family, body_of(campaign, fast_child), "k-q")
    assert seen == ["/applications"] * 2
    for replay, first in ((fast_replay, by_flask), (flask_replay, fast)):
        assert replay.status_code == 202 and replay.get_data() == first.get_data()
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert {h: replay.headers.get(h) for h in ("Content-Type", "Location")} == \
               {h: first.headers.get(h) for h in ("Content-Type", "Location")}
    assert sorted(fast_replay.headers.keys()) == sorted(flask_replay.headers.keys())
    assert len(list(redis_client.scan_iter("reg:pending:*"))) == 2, "both pending markers written"


@pytest.mark.parametrize("hold", [Hold("none"), Hold("held", uuid.uuid4()), Hold("waitlisted", uuid.uuid4(), 7)])
def test_the_acknowledgement_written_directly_is_flasks(app, hold):
    ack = Acknowledgement(uuid.uuid4(), uuid.uuid4(), datetime(2026, 2, 4, 23, 1, 2, 345, tzinfo=UTC), hold)
    document = acknowledgement(ack, f"/applications/{ack.application_id}")
    with app.app_context():
        flasks = app.json.response(AcknowledgementSchema().dump(document)).get_data()
    assert acknowledgement_json(document) == flasks


GOOD = {"campaign_id": str(uuid.uuid4()), "child_id": str(uuid.uuid4()), "choices": [str(uuid.uuid4())],
        "sworn_statement": True}
BAD_BODIES = [
    b"", b"not json", b"[]", b"null", b'"a string"', b"{}", json.dumps({**GOOD, "campaign_id": None}).encode(),
    json.dumps({**GOOD, "campaign_id": "not-a-uuid"}).encode(), json.dumps({**GOOD, "campaign_id": 12}).encode(),
    json.dumps({**GOOD, "child_id": ["x"]}).encode(), json.dumps({**GOOD, "choices": []}).encode(),
    json.dumps({**GOOD, "choices": [str(uuid.uuid4())] * 11}).encode(),
    json.dumps({**GOOD, "choices": str(uuid.uuid4())}).encode(), json.dumps({**GOOD, "choices": [None]}).encode(),
    json.dumps({**GOOD, "choices": ["x"]}).encode(), json.dumps({**GOOD, "sworn_statement": None}).encode(),
    json.dumps({**GOOD, "sworn_statement": "maybe"}).encode(), json.dumps({**GOOD, "sworn_statement": 2}).encode(),
    json.dumps({**GOOD, "keep_with_applications": None}).encode(),
    json.dumps({**GOOD, "keep_with_applications": [str(uuid.uuid4())] * 20}).encode(),
    json.dumps({**GOOD, "keep_with_applications": ["nope"]}).encode(),
    json.dumps({**GOOD, "unexpected": 1}).encode(), json.dumps({k: v for k, v in GOOD.items() if k != "choices"}).encode(),
    json.dumps({k: v for k, v in GOOD.items() if k != "sworn_statement"}).encode(),
    json.dumps({**GOOD, "campaign_id": GOOD["campaign_id"] + " "}).encode(),
    json.dumps(GOOD).encode() + b"trailing", "\ufeff".encode() + json.dumps(GOOD).encode(), b"\xff\xfe{}",
]
# What the schema accepts in a less usual form: the fast path may leave it to the route, never read it otherwise.
UNUSUAL = [json.dumps({**GOOD, "sworn_statement": "true"}).encode(),
           json.dumps({**GOOD, "campaign_id": "{" + GOOD["campaign_id"] + "}"}).encode(),
           json.dumps({**GOOD, "child_id": GOOD["child_id"].replace("-", "")}).encode(),
           json.dumps({**GOOD, "sworn_statement": 1}).encode()]


def test_the_body_is_read_exactly_as_strictly_as_the_schema():
    schema = SubmissionSchema()
    for document in BAD_BODIES:
        assert submission_fields(document) is None, document
    for document in [json.dumps(GOOD).encode(), json.dumps({**GOOD, "sworn_statement": False,
                     "keep_with_applications": [str(uuid.uuid4())]}).encode(), *UNUSUAL]:
        read = submission_fields(document)
        assert read is None or read == schema.load(json.loads(document)), document
    assert submission_fields(json.dumps(GOOD).encode()) == schema.load(GOOD)


def test_bad_bodies_and_headers_are_the_routes_own_problems(registrations, redis_client):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()
    seen = seen_by_flask(registrations)
    valid = body_of(campaign, child)
    cases = [(document, f"k-bad-{n}", {}) for n, document in enumerate(BAD_BODIES)] + [
        (json.dumps(valid).encode(), None, {}),  # no key
        (json.dumps(valid).encode(), "x" * 256, {}),  # a key too long
        (json.dumps(valid).encode(), "k-ct", {"content_type": "text/plain"}),
    ]
    for document, key, options in cases:
        sent = {"Authorization": f"Bearer {registrations.token_for('parent', account)}"}
        if key is not None:
            sent["Idempotency-Key"] = key
        answer = registrations.client.post("/applications", data=document, headers=sent,
                                           content_type=options.get("content_type", "application/json"))
        by_flask = flask_only(registrations).post("/applications", data=document, headers=sent,
                                                  content_type=options.get("content_type", "application/json"))
        assert 400 <= answer.status_code < 500 and answer.status_code == by_flask.status_code, (document, answer.json)
        assert answer.json == by_flask.json, document
    assert len(seen) == 2 * len(cases), "the fast path answered none of them"
    assert list(redis_client.scan_iter("reg:pending:*")) == []

    manager = registrations.client.post("/applications", json=valid, headers={
        "Authorization": f"Bearer {registrations.token_for('manager')}", "Idempotency-Key": "k-m"})
    no_token = registrations.client.post("/applications", json=valid, headers={"Idempotency-Key": "k-n"})
    assert (manager.status_code, manager.json["code"]) == (403, "role-missing")
    assert (no_token.status_code, no_token.json["code"]) == (401, "token-missing")


def test_a_refusal_after_intakes_script_is_the_routes_counted_once(registrations, redis_client):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1,
                                                                                          waitlist_limit=0)]))
    first, (first_child,) = registrations.family()
    second, (second_child,) = registrations.family()
    seen = seen_by_flask(registrations)
    assert post(registrations.client, registrations, first, body_of(campaign, first_child), "k-1").status_code == 202
    counted = int(redis_client.get("reg:ip:127.0.0.1") or 0)

    full = post(registrations.client, registrations, second, body_of(campaign, second_child), "k-2")
    assert (full.status_code, full.json["code"]) == (409, "campaign-full"), full.json
    assert seen == ["/applications"], "the route answered the refusal"
    assert int(redis_client.get("reg:ip:127.0.0.1")) == counted + 1, "admission counted it once"
    assert redis_client.get("idem:" + f"{second}:POST:/applications:k-2") is None, "the key is not left claimed"

    again = post(registrations.client, registrations, first, body_of(campaign, first_child), "k-3")
    assert (again.status_code, again.json["code"]) == (409, "already-applied"), again.json
    assert int(redis_client.get("reg:ip:127.0.0.1")) == counted + 2
