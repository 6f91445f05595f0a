"""Idempotency-Key handling against a real Redis."""
import threading
import time

import marshmallow as ma
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import require_roles
from shared.errors import ServiceUnavailable
from shared.idempotency import IdempotencyStore, idempotent
from shared.web import create_service_app


class OrderIn(ma.Schema):
    item = ma.fields.String(required=True)
    delay = ma.fields.Float(load_default=0)
    fail = ma.fields.Boolean(load_default=False)


@pytest.fixture
def app_and_calls(make_settings, redis_client):
    calls = []
    store = IdempotencyStore(redis_client, ttl_seconds=600, in_flight_seconds=30)
    blp = Blueprint("orders", __name__, url_prefix="/orders")

    @blp.route("")
    class Orders(MethodView):
        @idempotent(lambda: store)
        @require_roles("parent")
        @blp.arguments(OrderIn)
        @blp.response(201)
        def post(self, order):
            time.sleep(order["delay"])
            if order["fail"]:
                raise ServiceUnavailable("broker away", headers={"Retry-After": "2"})
            calls.append(order["item"])
            return {"order": len(calls), "item": order["item"]}

    app = create_service_app(make_settings("idem-test"), title="t", description="d", blueprints=[blp])
    return app, calls


def post(client, token, key, body):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/orders", json=body, headers=headers)


def test_same_key_same_body_replays_the_first_response(app_and_calls, token_for):
    app, calls = app_and_calls
    client, token = app.test_client(), token_for("parent", "family-1")
    first = post(client, token, "k1", {"item": "escalade"})
    second = post(client, token, "k1", {"item": "escalade"})
    assert first.status_code == second.status_code == 201
    assert first.json == second.json == {"order": 1, "item": "escalade"}
    assert second.headers["Idempotent-Replayed"] == "true"
    assert calls == ["escalade"]


def test_same_key_other_body_is_422_and_changes_nothing(app_and_calls, token_for):
    app, calls = app_and_calls
    client, token = app.test_client(), token_for("parent", "family-1")
    post(client, token, "k1", {"item": "escalade"})
    reused = post(client, token, "k1", {"item": "natation"})
    assert reused.status_code == 422 and reused.json["code"] == "idempotency-key-reused"
    assert calls == ["escalade"]


def test_missing_key_is_400(app_and_calls, token_for):
    app, calls = app_and_calls
    response = post(app.test_client(), token_for("parent"), None, {"item": "escalade"})
    assert response.status_code == 400 and response.json["code"] == "idempotency-key-missing"
    assert calls == []


def test_keys_are_scoped_to_the_caller(app_and_calls, token_for):
    app, calls = app_and_calls
    client = app.test_client()
    post(client, token_for("parent", "family-1"), "same", {"item": "a"})
    post(client, token_for("parent", "family-2"), "same", {"item": "a"})
    assert calls == ["a", "a"]


def test_retry_while_in_flight_is_409(app_and_calls, token_for):
    app, calls = app_and_calls
    token = token_for("parent", "family-1")
    slow = {}

    def first():
        slow["response"] = post(app.test_client(), token, "k-slow", {"item": "x", "delay": 1.0})

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.3)
    concurrent = post(app.test_client(), token, "k-slow", {"item": "x", "delay": 1.0})
    thread.join()
    assert concurrent.status_code == 409 and concurrent.json["code"] == "idempotency-key-in-flight"
    assert slow["response"].status_code == 201
    assert calls == ["x"]


def test_errors_are_not_kept_so_a_retry_runs_again(app_and_calls, token_for):
    app, calls = app_and_calls
    client, token = app.test_client(), token_for("parent", "family-1")
    invalid = post(client, token, "k-bad", {"nothing": 1})
    assert invalid.status_code == 422
    assert "Idempotent-Replayed" not in post(client, token, "k-bad", {"nothing": 1}).headers

    failed = post(client, token, "k-fail", {"item": "y", "fail": True})
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "2"
    retried = post(client, token, "k-fail", {"item": "y", "fail": True})
    assert retried.status_code == 503 and "Idempotent-Replayed" not in retried.headers


def test_keys_expire_after_their_ttl(redis_client):
    store = IdempotencyStore(redis_client, ttl_seconds=600)
    assert store.begin("s", "k", "fp") is None
    assert 0 < redis_client.ttl(store.redis_key("s", "k")) <= store.in_flight_ttl
