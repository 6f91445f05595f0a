"""Hostile bodies on every operation that reads one: NUL and control characters in every text
property, JSON nested thousands deep, lists of thousands of items. Each must get a 4xx problem, never a 5xx
(schemathesis, tests/fuzz/test_openapi_fuzz.py, generates valid-looking bodies; these are the shapes it does not)."""
import json
import re
import uuid
from importlib import import_module

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.devtokens import issue_token
from shared.kafka import ensure_topics

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
CONTROL = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800"])


def body_operations(app) -> list[tuple[str, str, dict]]:
    spec = app.test_client().get("/openapi.json").json
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if content:
                ref = content["schema"].get("$ref", "")
                schema = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
                concrete = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
                found.append((method.upper(), concrete, schema.get("properties", {})))
    return found


def hostile_body(properties: dict):
    texts = [name for name, p in properties.items() if p.get("type") == "string" and "format" not in p]
    lists = [name for name, p in properties.items() if p.get("type") == "array"]
    deep = st.integers(100, 20_000).map(lambda n: b"[" * n + b"]" * n)
    nul = st.tuples(st.sampled_from(texts or ["name"]), CONTROL).map(
        lambda pick: json.dumps({pick[0]: f"a{pick[1]}b"}).encode())
    long_list = st.tuples(st.sampled_from(lists or ["items"]), st.integers(11, 5000)).map(
        lambda pick: json.dumps({pick[0]: [str(uuid.uuid4())] * pick[1]}).encode())
    return st.one_of(deep, nul, long_list)


def sender(client, token: str, method: str, path: str):
    def send(body: bytes) -> None:
        response = client.open(path, method=method, data=body, content_type="application/json", headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex, "If-Match": "*"})
        assert 400 <= response.status_code < 500, (method, path, response.status_code, response.data[:300])
        assert response.mimetype == "application/problem+json"
    return send


# Allocation and notifications read no JSON body (their writes are bodiless POSTs): their limits are shared/web.py's.
@pytest.mark.parametrize("service", ["campaigns", "registrations"])
def test_hostile_bodies_get_a_4xx_problem_never_a_server_error(make_settings, service):
    settings_class = getattr(import_module(f"services.{service}.settings"), f"{service.capitalize()}Settings")
    service_settings = make_settings(service, settings_class)
    ensure_topics(service_settings)
    app = import_module(f"services.{service}.app").create_app(service_settings)
    client = app.test_client()
    token = issue_token(service_settings, "fuzz-family", ["manager", "parent", "service"])
    failures = []
    operations = body_operations(app)
    assert operations
    for method, path, properties in operations:
        try:
            FUZZ(given(body=hostile_body(properties))(sender(client, token, method, path)))()
        except AssertionError as failure:
            failures.append(str(failure)[:800])
    app.extensions["guichet.runtime"].close()
    assert not failures, "\n\n".join(failures)
