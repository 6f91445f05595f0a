"""The household API against real PostgreSQL and Redis."""
import json
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
import sqlalchemy as sa

from services.registrations.app import create_app
from services.registrations.settings import RegistrationsSettings
from services.registrations.store.household_cache import cache_key
from services.registrations.store.tables import children

FACTS = {"single_parent": True, "quotient_tranche": 3, "quotient_justified_on": "2025-09-30", "arrondissement": 11,
         "postal_mail": False, "postal_address": None, "email": "famille.martin@example.fr", "language": "fr"}
ADDRESS = {"line1": "12  rue Oberkampf", "line2": None, "postal_code": "75011", "city": "Paris"}
LEA = {"first_name": "Léa", "last_name": "Martin", "birth_date": "2016-05-04", "school": "École Parmentier",
       "school_arrondissement": 11}


@pytest.fixture
def app(make_settings):
    app = create_app(make_settings("registrations", RegistrationsSettings))
    yield app
    app.extensions["guichet.runtime"].close()


@pytest.fixture
def runtime(app):
    return app.extensions["guichet.runtime"]


@pytest.fixture
def client(app, redis_client):
    return app.test_client()


@pytest.fixture
def parent(token_for):
    """Headers of a parent of a new family; `parent("family-b")` for another one."""
    def headers_for(family_account: str = "family-a", **extra) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for('parent', family_account)}", **extra}
    return headers_for


def declare(client, headers, facts=FACTS):
    response = client.put("/household", json=facts, headers={**headers, "If-Match": "*"})
    assert response.status_code == 200, response.json
    return response


def add(client, headers, child=LEA, key=None):
    return client.post("/household/children", json=child, headers={**headers, "Idempotency-Key": key or uuid4().hex})


def test_a_parent_declares_the_household_then_reads_it_with_its_etag(client, parent):
    missing = client.get("/household", headers=parent())
    assert missing.status_code == 404 and missing.json["code"] == "household-not-found"
    assert "PUT /household" in missing.json["detail"]

    declared = declare(client, parent())
    # Every fact priority and price depend on is declared until a city agent validates it (test_validated_facts).
    declared_facts = [{"fact": fact, "child_id": None, "value": FACTS[fact], "status": "declared",
                       "effective_from": None, "validated_at": None, "document_id": None}
                      for fact in ("quotient_tranche", "single_parent")]
    assert declared.json == {**FACTS, "family_account": "family-a", "effective_tranche": 3, "children": [],
                             "version": 1, "facts": declared_facts}
    read = client.get("/household", headers=parent())
    assert read.json == declared.json and read.headers["ETag"] == declared.headers["ETag"]
    assert client.get("/household", headers=parent(**{"If-None-Match": read.headers["ETag"]})).status_code == 304


def test_a_replace_needs_the_current_etag(client, parent):
    first = declare(client, parent())
    without = client.put("/household", json=FACTS, headers=parent())
    assert without.status_code == 428

    second = client.put("/household", json={**FACTS, "postal_mail": True, "postal_address": ADDRESS},
                        headers=parent(**{"If-Match": first.headers["ETag"]}))
    assert second.status_code == 200 and second.json["version"] == 2
    assert second.json["postal_address"] == {**ADDRESS, "line1": "12 rue Oberkampf"}  # spaces tidied
    stale = client.put("/household", json={**FACTS, "single_parent": False},
                       headers=parent(**{"If-Match": first.headers["ETag"]}))
    assert stale.status_code == 412 and stale.json["code"] == "precondition-failed"
    assert client.get("/household", headers=parent()).json == second.json


@pytest.mark.parametrize("facts, fields", [
    ({**FACTS, "quotient_tranche": 11, "arrondissement": 21}, {"quotient_tranche", "arrondissement"}),
    ({**FACTS, "quotient_justified_on": None}, {"quotient_justified_on"}),
    ({**FACTS, "email": "not an address", "language": "de"}, {"email", "language"}),
    ({key: value for key, value in FACTS.items() if key != "postal_mail"}, {"postal_mail"}),
    ({**FACTS, "version": 7}, {"version"}),
    ({**FACTS, "postal_mail": True}, {"postal_address"}),
    ({**FACTS, "postal_address": {**ADDRESS, "postal_code": "7501", "city": " "}},
     {"postal_address.postal_code", "postal_address.city"}),
    ({**FACTS, "postal_address": {"line1": "12 rue Oberkampf"}}, {"postal_address.postal_code", "postal_address.city"}),
])
def test_invalid_facts_are_422_naming_each_field_and_change_nothing(client, parent, facts, fields):
    before = declare(client, parent())
    refused = client.put("/household", json=facts, headers=parent(**{"If-Match": "*"}))
    assert refused.status_code == 422
    assert {error["field"] for error in refused.json["errors"]} == fields
    assert client.get("/household", headers=parent()).json == before.json


def test_a_double_click_adds_one_child(client, parent):
    declare(client, parent())
    first = add(client, parent(), key="add-lea")
    again = add(client, parent(), key="add-lea")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"] == f"/household/children/{first.json['child_id']}"
    assert len(client.get("/household", headers=parent()).json["children"]) == 1

    resent_with_a_new_key = add(client, parent(), {**LEA, "first_name": " léa "})
    assert resent_with_a_new_key.status_code == 409
    assert resent_with_a_new_key.json["child_id"] == first.json["child_id"]
    without_key = client.post("/household/children", json={**LEA, "first_name": "Jade"}, headers=parent())
    assert without_key.status_code == 400 and without_key.json["code"] == "idempotency-key-missing"


def test_children_added_at_the_same_time_are_all_kept(client, parent):
    declare(client, parent())
    names = [f"Enfant {n}" for n in range(6)]
    with ThreadPoolExecutor(len(names)) as pool:
        statuses = list(pool.map(lambda name: add(client.application.test_client(), parent(),
                                                  {**LEA, "first_name": name}).status_code, names))
    assert statuses == [201] * len(names)
    household = client.get("/household", headers=parent()).json
    assert sorted(c["first_name"] for c in household["children"]) == names and household["version"] == 7


def test_a_child_needs_a_declared_household_and_valid_fields(client, parent):
    assert add(client, parent()).json["code"] == "household-not-found"
    declare(client, parent())
    refused = add(client, parent(), {**LEA, "first_name": "  ", "birth_date": "2999-01-01"})
    assert refused.status_code == 422
    assert {(e["field"], e["code"]) for e in refused.json["errors"]} == {
        ("first_name", "name-empty"), ("birth_date", "date-in-future")}
    missing = add(client, parent(), {"first_name": "Léa"})
    assert {e["field"] for e in missing.json["errors"]} == {"last_name", "birth_date"}
    assert client.get("/household", headers=parent()).json["version"] == 1


def test_a_child_is_corrected_then_removed_but_its_record_is_kept(client, parent, runtime):
    declare(client, parent())
    child_url = add(client, parent()).headers["Location"]

    corrected = client.patch(child_url, json={"school": None, "disability_allowance": True}, headers=parent())
    assert corrected.status_code == 200
    assert client.get(child_url, headers=parent()).json == {
        **LEA, "school": None, "disability_allowance": True, "child_id": corrected.json["child_id"]}
    refused = client.patch(child_url, json={"birth_date": "1990-01-01"}, headers=parent())
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "birth_date"

    assert client.delete(child_url, headers=parent()).status_code == 204
    assert client.get(child_url, headers=parent()).status_code == 404
    household = client.get("/household", headers=parent()).json
    assert (household["children"], household["version"]) == ([], 4)
    with runtime.engine.connect() as connection:
        kept = connection.execute(sa.select(children.c.first_name, children.c.removed_at)).one()
    assert kept.first_name == "Léa" and kept.removed_at is not None


def test_a_parent_cannot_reach_another_familys_child(client, parent):
    declare(client, parent("family-a"))
    child_url = add(client, parent("family-a")).headers["Location"]
    declare(client, parent("family-b"))

    for response in (client.get(child_url, headers=parent("family-b")),
                     client.patch(child_url, json={"first_name": "Intrus"}, headers=parent("family-b")),
                     client.delete(child_url, headers=parent("family-b"))):
        assert response.status_code == 404 and response.json["code"] == "child-not-found"
    assert client.get(child_url, headers=parent("family-a")).json["first_name"] == "Léa"
    assert client.get("/household", headers=parent("family-b")).json["children"] == []


def test_managers_and_services_read_any_household_parents_only_their_own(client, parent, token_for):
    declare(client, parent("family-a"))
    for role in ("manager", "service"):
        read = client.get("/households/family-a", headers={"Authorization": f"Bearer {token_for(role)}"})
        assert read.status_code == 200 and read.json["family_account"] == "family-a"
    assert client.get("/households/family-a", headers=parent("family-b")).status_code == 403
    unknown = client.get("/households/nobody", headers={"Authorization": f"Bearer {token_for('manager')}"})
    assert unknown.status_code == 404


def test_every_write_leaves_its_version_in_redis_even_over_a_stale_entry(client, parent, redis_client):
    declare(client, parent())
    assert json.loads(redis_client.get(cache_key("family-a")))["version"] == 1
    child_url = add(client, parent()).headers["Location"]
    cached = json.loads(redis_client.get(cache_key("family-a")))
    assert cached["version"] == 2 and [c["first_name"] for c in cached["children"]] == ["Léa"]

    redis_client.set(cache_key("family-a"), json.dumps({**cached, "version": 1, "children": []}))
    client.patch(child_url, json={"first_name": "Léane"}, headers=parent())
    cached = json.loads(redis_client.get(cache_key("family-a")))
    assert cached["version"] == 3 and [c["first_name"] for c in cached["children"]] == ["Léane"]


def test_the_api_documents_every_field(client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    for name in ("HouseholdFacts", "Household", "NewChild", "ChildChanges", "Child"):
        undocumented = [field for field, spec in schemas[name]["properties"].items() if not spec.get("description")]
        assert undocumented == [], name
    assert set(schemas["NewChild"]["required"]) == {"first_name", "last_name", "birth_date"}
    assert "required" not in schemas["ChildChanges"]
