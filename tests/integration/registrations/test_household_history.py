"""A family reads its household's history (issue 16, item 1): its own changes and a city agent's for it, newest
first, page by page, with the agent's motif but never the agent's name; only its own chain. Real PostgreSQL and
Redis."""
import uuid

import pytest

from tests.support.agents import new_family

FACTS = {"single_parent": True, "quotient_tranche": 3, "quotient_justified_on": "2025-09-30", "arrondissement": 11,
         "postal_mail": False, "postal_address": None, "email": "famille.martin@example.fr", "language": "fr"}
MOTIF = "Attestation CAF présentée au guichet de la mairie du 11e"


@pytest.fixture
def agent(token_for):
    def headers(**extra) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for('agent', 'agent-jemmapes-1')}", **extra}
    return headers


def history(client, as_role, account, **query):
    answer = client.get("/household/history", query_string=query, headers=as_role("parent", account))
    assert answer.status_code == 200, answer.json
    return answer.json


def test_the_family_reads_an_agents_change_with_its_motif_and_its_own_without_one(client, engine, as_role, agent):
    account, child = new_family(engine)
    etag = client.get(f"/agent/families/{account}/household", headers=agent()).headers["ETag"]
    corrected = client.put(f"/agent/families/{account}/household", json={**FACTS, "reason": MOTIF},
                           headers=agent(**{"If-Match": etag}))
    assert corrected.status_code == 200, corrected.json
    changed = client.patch(f"/household/children/{child}", json={"school": "École Saint-Maur"},
                           headers=as_role("parent", account))
    assert changed.status_code == 200, changed.json

    page = history(client, as_role, account)
    own, agents = page["items"]  # newest first
    assert page["next_before"] is None
    assert (own["action"], own["target_type"], own["target_id"], own["by"], own["reason"], own["fields"]) == (
        "child.change", "child", str(child), "family", None, ["school"])
    assert (agents["action"], agents["target_type"], agents["target_id"], agents["by"], agents["reason"]) == (
        "household.correct", "household", account, "agent", MOTIF)
    assert {"quotient_tranche", "single_parent", "arrondissement", "email"} <= set(agents["fields"])
    assert "reason" not in agents["fields"]
    assert agents["at"] <= own["at"] and agents["seq"] < own["seq"]
    assert "agent-jemmapes-1" not in str(page)  # the family reads that an agent acted, never which one


def test_a_child_removed_since_is_still_named_by_the_changes_that_added_and_removed_it(client, engine, as_role, agent):
    account, _ = new_family(engine)
    added = client.post("/household/children", json={"first_name": "Maëlys", "last_name": "Durand",
                                                      "birth_date": "2016-05-04", "school": "École Parmentier",
                                                      "school_arrondissement": 11},
                        headers=as_role("parent", account, **{"Idempotency-Key": str(uuid.uuid4())}))
    assert added.status_code == 201, added.json
    child = added.json["child_id"]
    renamed = client.patch(f"/household/children/{child}", json={"first_name": "Maelys"},
                           headers=as_role("parent", account))
    assert renamed.status_code == 200, renamed.json
    removed = client.post(f"/agent/families/{account}/household/children/{child}/removal", json={"reason": MOTIF},
                          headers=agent(**{"Idempotency-Key": str(uuid.uuid4())}))
    assert removed.status_code == 200, removed.json

    removal, renaming, addition = history(client, as_role, account)["items"]
    assert [(i["action"], i["target_id"], i["child_name"]) for i in (removal, renaming, addition)] == [
        ("child.remove", child, "Maelys Durand"), ("child.change", child, "Maelys"),
        ("child.add", child, "Maëlys Durand")]
    assert all(item["child_name"] is None for item in history(client, as_role, account, before=addition["seq"])["items"]
               if item["target_type"] != "child")


def test_the_history_is_read_page_by_page_newest_first(client, engine, as_role):
    account, _ = new_family(engine)
    added = []
    for number in range(5):
        answer = client.post("/household/children", json={"first_name": f"Enfant{number + 1}", "last_name": "Durand",
                                                           "birth_date": f"2016-03-0{number + 1}"},
                             headers=as_role("parent", account, **{"Idempotency-Key": uuid.uuid4().hex}))
        assert answer.status_code == 201, answer.json
        added.append(answer.json["child_id"])

    first = history(client, as_role, account, limit=2)
    second = history(client, as_role, account, limit=2, before=first["next_before"])
    last = history(client, as_role, account, limit=2, before=second["next_before"])
    read = [item["target_id"] for page in (first, second, last) for item in page["items"]]
    assert read == added[::-1]
    assert last["next_before"] is None and len(last["items"]) == 1
    assert all(item["action"] == "child.add" and item["by"] == "family" for page in (first, second, last)
               for item in page["items"])


def test_a_family_reads_only_its_own_history_and_bad_pages_are_refused(client, engine, as_role, agent):
    account, _ = new_family(engine)
    other, _ = new_family(engine)
    etag = client.get(f"/agent/families/{other}/household", headers=agent()).headers["ETag"]
    assert client.put(f"/agent/families/{other}/household", json={**FACTS, "reason": MOTIF},
                      headers=agent(**{"If-Match": etag})).status_code == 200
    assert history(client, as_role, account) == {"items": [], "next_before": None}
    assert len(history(client, as_role, other)["items"]) == 1

    for query, field in (({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"before": 0}, "before"),
                         ({"before": "x"}, "before"), ({"before": 2**63}, "before")):
        refused = client.get("/household/history", query_string=query, headers=as_role("parent", account))
        assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
        assert [error["field"] for error in refused.json["errors"]] == [f"query.{field}"]
    assert client.get("/household/history", headers=agent()).status_code == 403
    assert client.get("/household/history").status_code == 401


def test_the_history_is_documented(client):
    spec = client.get("/openapi.json").json
    operation = spec["paths"]["/household/history"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    schemas = spec["components"]["schemas"]
    item = schemas["HistoryItem"]
    assert {"at", "action", "target_type", "target_id", "by", "reason", "fields"} <= set(item["required"])
    assert item["properties"]["by"]["enum"] == ["family", "agent"]
    assert {"items", "next_before"} <= set(schemas["HistoryPage"]["required"])
