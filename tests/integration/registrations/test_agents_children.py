"""Agents add, change and remove a family's child (issue 16, item 1), each with a required reason, under the
parent's rules: one audit entry each and `household.corrected` in the outbox with the change, the family's history
showing the motif; a parent's token 403, an unknown family or child 404, nothing changed by a refusal. Real
PostgreSQL and Redis."""
import uuid

import pytest
from sqlalchemy import select

from services.registrations.store.audit import family_entries
from services.registrations.store.tables import outbox
from tests.support.agents import new_family

MOTIF = "Livret de famille présenté au guichet de la mairie du 11e"
NEW_CHILD = {"first_name": "Léa", "last_name": "Durand", "birth_date": "2017-04-12", "school": "École Keller",
             "school_arrondissement": 11}
FACTS = {"single_parent": True, "quotient_tranche": 3, "quotient_justified_on": "2025-09-30", "arrondissement": 11,
         "postal_mail": False, "postal_address": None, "email": "famille.martin@example.fr", "language": "fr"}


@pytest.fixture
def agent(as_role):
    return lambda **extra: as_role("agent", "agent-jemmapes-1", **{"Idempotency-Key": uuid.uuid4().hex, **extra})


def entries(engine, account):
    with engine.connect() as connection:
        return family_entries(connection, account)


def corrections(engine, account):
    with engine.connect() as connection:
        envelopes = connection.execute(select(outbox.c.envelope).order_by(outbox.c.position)).scalars().all()
    return [envelope["data"] for envelope in envelopes
            if envelope["type"] == "household.corrected" and envelope["data"]["family_account"] == account]


def etag(client, agent, account):
    return client.get(f"/agent/families/{account}/household", headers=agent()).headers["ETag"]


def test_an_agent_adds_a_child_for_the_family_with_its_entry_event_and_history(client, engine, agent, as_role):
    account, _ = new_family(engine)
    added = client.post(f"/agent/families/{account}/household/children", json={**NEW_CHILD, "reason": MOTIF},
                        headers=agent())
    assert added.status_code == 201, added.json
    child_id = added.json["child_id"]
    assert (added.json["first_name"], added.json["school"], added.json["disability_allowance"]) == (
        "Léa", "École Keller", False)
    assert added.headers["Location"].endswith(f"/agent/families/{account}/household/children/{child_id}")
    assert added.headers["ETag"] == etag(client, agent, account)
    own = client.get("/household", headers=as_role("parent", account)).json
    assert child_id in [child["child_id"] for child in own["children"]]

    (entry,) = entries(engine, account)
    assert (entry.action, entry.target_type, entry.target_id, entry.actor_role, entry.on_behalf_of) == (
        "child.add", "child", child_id, "agent", account)
    assert entry.changes["first_name"] == {"before": None, "after": "Léa"}
    assert entry.changes["reason"] == {"before": None, "after": MOTIF}

    (event,) = corrections(engine, account)
    assert (event["change"], event["child_id"], event["reason"]) == ("child_added", child_id, MOTIF)
    assert {"first_name", "last_name", "birth_date", "school"} <= set(event["fields"]) and "reason" not in event["fields"]
    assert "Léa" not in str(event)  # names of fields, never their values

    (item,) = client.get("/household/history", headers=as_role("parent", account)).json["items"]
    assert (item["action"], item["by"], item["reason"], item["target_id"]) == ("child.add", "agent", MOTIF, child_id)


def test_an_agent_sets_a_childs_fields_with_the_households_etag(client, engine, agent):
    account, child = new_family(engine)
    read = etag(client, agent, account)
    body = {"first_name": "Enfant0", "last_name": "Durand", "birth_date": "2015-06-02", "disability_allowance": True,
            "reason": MOTIF}
    changed = client.put(f"/agent/families/{account}/household/children/{child}", json=body,
                         headers=agent(**{"If-Match": read}))
    assert changed.status_code == 200, changed.json
    assert (changed.json["birth_date"], changed.json["disability_allowance"], changed.json["school"]) == (
        "2015-06-02", True, None)
    assert changed.headers["ETag"] != read

    stale = client.put(f"/agent/families/{account}/household/children/{child}", json={**body, "first_name": "Autre"},
                       headers=agent(**{"If-Match": read}))
    assert stale.status_code == 412
    missing = client.put(f"/agent/families/{account}/household/children/{child}", json=body, headers=agent())
    assert missing.status_code == 428

    (entry,) = entries(engine, account)
    assert (entry.action, entry.target_id) == ("child.change", str(child))
    assert set(entry.changes) == {"birth_date", "disability_allowance", "reason"}
    (event,) = corrections(engine, account)
    assert (event["change"], event["child_id"], event["fields"]) == (
        "child_changed", str(child), ["birth_date", "disability_allowance"])


def test_an_agent_removes_a_child_with_a_reason_in_the_body(client, engine, agent, as_role):
    account, child = new_family(engine)
    removed = client.post(f"/agent/families/{account}/household/children/{child}/removal", json={"reason": MOTIF},
                          headers=agent())
    assert removed.status_code == 200, removed.json
    assert removed.json["children"] == [] and removed.headers["ETag"] == etag(client, agent, account)
    again = client.post(f"/agent/families/{account}/household/children/{child}/removal", json={"reason": MOTIF},
                        headers=agent())
    assert (again.status_code, again.json["code"]) == (404, "child-not-found")

    (entry,) = entries(engine, account)
    assert (entry.action, entry.target_id, entry.changes["reason"]["after"]) == ("child.remove", str(child), MOTIF)
    (event,) = corrections(engine, account)
    assert (event["change"], event["child_id"]) == ("child_removed", str(child))
    assert client.get(f"/household/children/{child}", headers=as_role("parent", account)).status_code == 404


def test_an_agents_facts_correction_is_announced_and_the_same_facts_again_are_not(client, engine, agent):
    account, _ = new_family(engine)
    first = client.put(f"/agent/families/{account}/household", json={**FACTS, "reason": MOTIF},
                       headers=agent(**{"If-Match": etag(client, agent, account)}))
    assert first.status_code == 200, first.json
    again = client.put(f"/agent/families/{account}/household", json={**FACTS, "reason": MOTIF},
                       headers=agent(**{"If-Match": first.headers["ETag"]}))
    assert again.status_code == 200
    (event,) = corrections(engine, account)
    assert (event["change"], event["child_id"], event["reason"]) == ("facts", None, MOTIF)
    assert {"quotient_tranche", "single_parent", "email", "arrondissement"} <= set(event["fields"])
    assert len(entries(engine, account)) == 2  # both PUTs are audited; only the one that changed something tells


def test_the_familys_own_changes_are_not_announced(client, engine, as_role):
    account, child = new_family(engine)
    assert client.patch(f"/household/children/{child}", json={"school": "École Keller"},
                        headers=as_role("parent", account)).status_code == 200
    assert corrections(engine, account) == []


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "ok"}, {"reason": None}])
def test_a_child_change_without_a_reason_is_refused_naming_reason_and_changes_nothing(client, engine, agent, body):
    account, child = new_family(engine)
    read = etag(client, agent, account)
    calls = [client.post(f"/agent/families/{account}/household/children", json={**NEW_CHILD, **body},
                         headers=agent()),
             client.put(f"/agent/families/{account}/household/children/{child}",
                        json={**NEW_CHILD, **body}, headers=agent(**{"If-Match": read})),
             client.post(f"/agent/families/{account}/household/children/{child}/removal", json=body,
                         headers=agent())]
    for refused in calls:
        assert refused.status_code == 422, refused.json
        assert refused.mimetype == "application/problem+json"
        assert {error["field"] for error in refused.json["errors"]} == {"reason"}
    assert etag(client, agent, account) == read
    assert entries(engine, account) == [] and corrections(engine, account) == []


def test_the_parents_rules_hold_for_the_agent(client, engine, agent):
    account, child = new_family(engine)
    future = client.post(f"/agent/families/{account}/household/children",
                         json={**NEW_CHILD, "birth_date": "2999-01-01", "reason": MOTIF}, headers=agent())
    assert future.status_code == 422 and "birth_date" in [e["field"] for e in future.json["errors"]]
    twin = client.post(f"/agent/families/{account}/household/children",
                       json={"first_name": "Enfant0", "last_name": "Durand", "birth_date": "2015-06-01",
                             "reason": MOTIF}, headers=agent())
    assert (twin.status_code, twin.json["code"]) == (409, "child-already-declared")
    assert entries(engine, account) == [] and corrections(engine, account) == []


def test_a_parent_token_is_refused_and_unknown_families_and_children_are_not_found(client, engine, agent, as_role):
    account, child = new_family(engine)
    other, others_child = new_family(engine)
    own = as_role("parent", account, **{"Idempotency-Key": uuid.uuid4().hex, "If-Match": "*"})
    body = {**NEW_CHILD, "reason": MOTIF}
    as_parent = [client.post(f"/agent/families/{account}/household/children", json=body, headers=own),
                 client.put(f"/agent/families/{account}/household/children/{child}", json=body, headers=own),
                 client.post(f"/agent/families/{account}/household/children/{child}/removal",
                             json={"reason": MOTIF}, headers=own)]
    assert [(call.status_code, call.json["code"]) for call in as_parent] == [(403, "role-missing")] * 3

    unknown = [client.post("/agent/families/family-nobody/household/children", json=body, headers=agent()),
               client.put(f"/agent/families/family-nobody/household/children/{child}", json=body,
                          headers=agent(**{"If-Match": "*"})),
               client.post(f"/agent/families/family-nobody/household/children/{child}/removal",
                           json={"reason": MOTIF}, headers=agent())]
    assert [(call.status_code, call.json["code"]) for call in unknown] == [(404, "family-not-found")] * 3
    crossed = [client.put(f"/agent/families/{account}/household/children/{others_child}", json=body,
                          headers=agent(**{"If-Match": "*"})),
               client.post(f"/agent/families/{account}/household/children/{others_child}/removal",
                           json={"reason": MOTIF}, headers=agent())]
    assert [(call.status_code, call.json["code"]) for call in crossed] == [(404, "child-not-found")] * 2
    assert entries(engine, account) == entries(engine, other) == []
    assert corrections(engine, account) == corrections(engine, other) == []


def test_the_agents_child_routes_are_documented(client):
    spec = client.get("/openapi.json").json
    paths = spec["paths"]
    base = "/agent/families/{family_account}/household/children"
    assert {"post"} <= paths[base].keys()
    assert {"put"} <= paths[base + "/{child_id}"].keys()
    assert {"post"} <= paths[base + "/{child_id}/removal"].keys()
    assert {"reason", "first_name", "last_name", "birth_date"} <= set(spec["components"]["schemas"]["AgentChild"]["required"])
