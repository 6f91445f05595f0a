"""Agents validate household facts from a family's supporting document (issue 16, item 4): the household's value
becomes the validated one, `household.fact_validated` is in the outbox with it, one audit entry with the reason;
the family reads the fact as validated (and as declared again once it changes the value); an application made
afterwards carries the fact as validated. Real PostgreSQL, Redis and, for intake, Kafka."""
import json
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from services.registrations.store.audit import family_entries
from services.registrations.store.household_cache import cache_key
from services.registrations.store.tables import fact_validations, outbox
from shared.clock import utc_now
from shared.domain.paris import paris_day
from shared.events import parse_event
from shared.topics import APPLICATION_EVENTS, APPLICATION_SUBMISSIONS
from tests.support.agents import new_family
from tests.support.broker import events_on
from tests.support.documents import PDF, PNG, query
from tests.support.registrations import campaign_snapshot

REASON = "Avis d'imposition 2025 vérifié au guichet : tranche 2"
FACTS = {"single_parent": False, "quotient_tranche": 5, "quotient_justified_on": "2025-09-30", "arrondissement": 11,
         "postal_mail": False, "postal_address": None, "email": "famille@example.fr", "language": "fr"}


@pytest.fixture
def family(client, as_role):
    """A family that declared its household through the API, and one PDF it uploaded."""
    account = f"family-{uuid.uuid4().hex[:8]}"
    declared = client.put("/household", json=FACTS, headers=as_role("parent", account, **{"If-Match": "*"}))
    assert declared.status_code == 200, declared.json
    document = client.post(f"/household/documents?{query(fact='quotient_tranche')}", data=PDF,
                           headers=as_role("parent", account))
    assert document.status_code == 201, document.json
    return account, document.json["document_id"]


def validate(client, headers, account, fact="quotient_tranche", **body):
    return client.post(f"/agent/families/{account}/facts/{fact}/validation", json=body, headers=headers)


def fact_events(engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(select(outbox.c.envelope, outbox.c.message_key, outbox.c.topic)
                                  .where(outbox.c.event_type == "household.fact_validated")
                                  .order_by(outbox.c.position)).all()
    return [{"envelope": row.envelope, "key": row.message_key, "topic": row.topic} for row in rows]


def facts_read(client, headers) -> dict:
    return {(f["fact"], f["child_id"]): f for f in client.get("/household", headers=headers).json["facts"]}


def test_an_agent_validates_the_tranche_the_family_reads_it_and_others_learn_it(client, engine, as_role, family,
                                                                               redis_client):
    account, document_id = family
    before = facts_read(client, as_role("parent", account))
    assert before[("quotient_tranche", None)]["status"] == "declared"
    effective = paris_day(utc_now()).replace(day=1) + timedelta(days=31)

    validated = validate(client, as_role("agent", "agent-jemmapes-1"), account, value=2, reason=REASON,
                         document_id=document_id, effective_from=effective.isoformat())
    assert validated.status_code == 200, validated.json
    assert (validated.json["status"], validated.json["value"], validated.json["effective_from"],
            validated.json["document_id"]) == ("validated", 2, effective.isoformat(), document_id)

    household = client.get("/household", headers=as_role("parent", account)).json
    assert (household["quotient_tranche"], household["quotient_justified_on"], household["version"]) == (
        2, paris_day(utc_now()).isoformat(), 2)
    read = {(f["fact"], f["child_id"]): f for f in household["facts"]}
    assert read[("quotient_tranche", None)]["status"] == "validated"
    assert read[("quotient_tranche", None)]["effective_from"] == effective.isoformat()
    assert read[("single_parent", None)]["status"] == "declared"
    # The Redis copy intake reads carries the validation.
    cached = json.loads(redis_client.get(cache_key(account)))
    assert [(v["fact"], v["value"], v["document_id"]) for v in cached["validations"]] == [
        ("quotient_tranche", 2, document_id)]

    (event,) = fact_events(engine)
    assert (event["key"], event["topic"]) == (account, APPLICATION_EVENTS.name)
    data = parse_event(event["envelope"]).data
    assert (data["family_account"], data["fact"], data["child_id"], data["value"], data["effective_from"],
            data["document_id"]) == (account, "quotient_tranche", None, 2, effective.isoformat(), document_id)

    with engine.connect() as connection:
        (entry,) = [e for e in family_entries(connection, account) if e.action == "household.fact_validate"]
    assert (entry.actor_subject, entry.actor_role, entry.on_behalf_of) == ("agent-jemmapes-1", "agent", account)
    assert entry.changes["value"] == {"before": 5, "after": 2}
    assert entry.changes["status"] == {"before": "declared", "after": "validated"}
    assert entry.changes["reason"]["after"] == REASON


def test_the_same_validation_again_changes_nothing(client, engine, as_role, family):
    account, document_id = family
    body = dict(value=True, reason=REASON, document_id=document_id, effective_from=paris_day(utc_now()).isoformat())
    first = validate(client, as_role("agent"), account, "single_parent", **body)
    again = validate(client, as_role("agent"), account, "single_parent", **body)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json == first.json
    assert len(fact_events(engine)) == 1
    with engine.connect() as connection:
        assert [e.action for e in family_entries(connection, account)].count("household.fact_validate") == 1
    assert client.get("/household", headers=as_role("parent", account)).json["version"] == 2


def test_a_parent_changing_the_validated_value_makes_it_declared_again(client, engine, as_role, family):
    account, document_id = family
    validate(client, as_role("agent"), account, value=2, reason=REASON, document_id=document_id,
             effective_from=paris_day(utc_now()).isoformat())
    same = client.put("/household", json={**FACTS, "quotient_tranche": 2, "arrondissement": 12},
                      headers=as_role("parent", account, **{"If-Match": "*"}))
    assert facts_read(client, as_role("parent", account))[("quotient_tranche", None)]["status"] == "validated", same.json
    changed = client.put("/household", json={**FACTS, "quotient_tranche": 4},
                         headers=as_role("parent", account, **{"If-Match": "*"}))
    assert changed.status_code == 200
    state = {(f["fact"], f["child_id"]): f for f in changed.json["facts"]}[("quotient_tranche", None)]
    assert (state["status"], state["value"], state["effective_from"]) == ("declared", 4, None)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(fact_validations)).scalar_one() == 0


def test_a_childs_allowance_is_validated_for_that_child(client, engine, as_role, family):
    account, _ = family
    child = client.post("/household/children", json={"first_name": "Léa", "last_name": "Martin",
                                                     "birth_date": "2016-05-04", "disability_allowance": False},
                        headers=as_role("parent", account, **{"Idempotency-Key": uuid.uuid4().hex})).json
    document = client.post(f"/household/documents?{query(fact='disability_allowance', child_id=child['child_id'])}",
                           data=PNG, headers=as_role("parent", account)).json
    validated = validate(client, as_role("agent"), account, "disability_allowance", value=True, reason=REASON,
                         child_id=child["child_id"], document_id=document["document_id"],
                         effective_from=paris_day(utc_now()).isoformat())
    assert (validated.status_code, validated.json["child_id"], validated.json["status"]) == (
        200, child["child_id"], "validated")
    assert client.get(f"/household/children/{child['child_id']}",
                      headers=as_role("parent", account)).json["disability_allowance"] is True


@pytest.mark.parametrize("fact, body, field", [
    ("quotient_tranche", {"value": 11}, "value"),
    ("quotient_tranche", {"value": "2"}, "value"),
    ("single_parent", {"value": 1}, "value"),
    ("disability_allowance", {"value": True}, "child_id"),
    ("quotient_tranche", {"value": 2, "effective_from": (paris_day(utc_now()) + timedelta(days=800)).isoformat()},
     "effective_from"),
    ("quotient_tranche", {"value": 2, "document_id": str(uuid.uuid4())}, "document_id"),
    ("quotient_tranche", {"value": 2, "reason": " "}, "reason"),
    ("quotient_tranche", {"value": 2, "effective_from": None}, "effective_from"),
])
def test_a_wrong_validation_is_422_naming_the_field_and_changes_nothing(client, engine, as_role, family, fact, body,
                                                                       field):
    account, document_id = family
    sent = {"reason": REASON, "document_id": document_id, "effective_from": paris_day(utc_now()).isoformat(), **body}
    refused = validate(client, as_role("agent"), account, fact, **{k: v for k, v in sent.items() if v is not None})
    assert refused.status_code == 422, refused.json
    assert refused.mimetype == "application/problem+json"
    assert field in {error["field"] for error in refused.json["errors"]}
    assert fact_events(engine) == []
    assert client.get("/household", headers=as_role("parent", account)).json["version"] == 1


def test_another_familys_document_does_not_validate_this_one(client, engine, as_role, family):
    account, _ = family
    other, _ = new_family(engine, first_name="Autre")
    others_document = client.post(f"/household/documents?{query(fact='quotient_tranche')}", data=PNG,
                                  headers=as_role("parent", other)).json["document_id"]
    refused = validate(client, as_role("agent"), account, value=2, reason=REASON, document_id=others_document,
                       effective_from=paris_day(utc_now()).isoformat())
    assert (refused.status_code, refused.json["code"]) == (422, "document-unknown")


def test_only_agents_validate(client, engine, as_role, family):
    account, document_id = family
    body = dict(value=2, reason=REASON, document_id=document_id, effective_from=paris_day(utc_now()).isoformat())
    assert validate(client, as_role("parent", account), account, **body).status_code == 403
    assert validate(client, as_role("manager"), account, **body).status_code == 403
    assert validate(client, as_role("agent"), "family-unknown", **body).status_code == 404
    assert validate(client, as_role("agent"), account, "income", **body).status_code == 404
    assert fact_events(engine) == []


def test_an_application_made_after_the_validation_carries_the_validated_facts(registrations, token_for):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child_id,) = registrations.family(single_parent=True, quotient_tranche=5,
                                                quotient_justified_on=date(2025, 9, 30))
    client, agent = registrations.client, {"Authorization": f"Bearer {token_for('agent', 'agent-1')}"}
    parent = {"Authorization": f"Bearer {token_for('parent', account)}"}
    # The household is in Redis already, as intake reads it: the validation writes it through.
    assert client.get("/household", headers=parent).status_code == 200
    document_id = client.post(f"/household/documents?{query(fact='quotient_tranche')}", data=PDF,
                              headers=parent).json["document_id"]
    assert validate(client, agent, account, value=3, reason=REASON, document_id=document_id,
                    effective_from=paris_day(utc_now()).isoformat()).status_code == 200

    answer = registrations.submit(account, campaign, child_id)
    assert answer.status_code == 202, answer.json
    (record,) = [e for e in events_on(registrations.settings, APPLICATION_SUBMISSIONS, "application.submitted")
                 if e["data"]["application_id"] == answer.json["application_id"]]
    household = record["data"]["household"]
    assert (household["quotient_tranche"], household["single_parent"], household["validated_facts"]) == (
        3, True, ["quotient_tranche"])
