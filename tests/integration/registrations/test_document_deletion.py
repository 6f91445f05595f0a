"""A family deletes one of its supporting documents (issue 16): the row and its large object go in one transaction
with one audit entry; another family's id, or a document already deleted, is 404 and changes nothing; the proof of a
validated fact is kept (409 naming `document_id`) until the validation goes. Real PostgreSQL and Redis."""
import uuid
from datetime import date

import pytest

from services.registrations.store.audit import family_entries
from tests.support.documents import PDF, PNG, large_objects, query, stored_documents

FACTS = {"single_parent": False, "quotient_tranche": 5, "quotient_justified_on": "2025-09-30", "arrondissement": 11,
         "postal_mail": False, "postal_address": None, "email": "famille@example.fr", "language": "fr"}
REASON = "Avis d'imposition 2025 vérifié au guichet : tranche 2"


@pytest.fixture
def declared(client, as_role):
    """A family that declared its household through the API."""
    def family() -> str:
        account = f"family-{uuid.uuid4().hex[:8]}"
        answer = client.put("/household", json=FACTS, headers=as_role("parent", account, **{"If-Match": "*"}))
        assert answer.status_code == 200, answer.json
        return account
    return family


def upload(client, as_role, account, content=PDF) -> str:
    sent = client.post(f"/household/documents?{query(fact='quotient_tranche')}", data=content,
                       headers=as_role("parent", account))
    assert sent.status_code == 201, sent.json
    return sent.json["document_id"]


def actions(engine, account) -> list[str]:
    with engine.connect() as connection:
        return [entry.action for entry in family_entries(connection, account)]


def test_a_family_deletes_its_document_and_its_bytes_with_one_audit_entry(client, engine, as_role, declared):
    account = declared()
    kept, deleted = upload(client, as_role, account, PNG), upload(client, as_role, account)
    assert large_objects(engine) == 2

    answer = client.delete(f"/household/documents/{deleted}", headers=as_role("parent", account))
    assert answer.status_code == 204, answer.json
    assert (stored_documents(engine, account), large_objects(engine)) == (1, 1)
    listed = client.get("/household/documents", headers=as_role("parent", account)).json
    assert [document["document_id"] for document in listed] == [kept]
    assert client.get(f"/household/documents/{deleted}", headers=as_role("parent", account)).status_code == 404

    with engine.connect() as connection:
        entry = family_entries(connection, account)[-1]
    assert (entry.action, entry.target_type, entry.target_id, entry.actor_role) == (
        "document.delete", "document", deleted, "parent")
    assert entry.changes["sha256"]["after"] is None and entry.changes["media_type"]["before"] == "application/pdf"
    newest = client.get("/household/history", headers=as_role("parent", account)).json["items"][0]
    assert (newest["action"], newest["target_id"], newest["by"]) == ("document.delete", deleted, "family")

    # The same bytes may be sent again: a new document.
    assert upload(client, as_role, account) != deleted


def test_a_second_delete_or_another_familys_document_is_not_found_and_changes_nothing(client, engine, as_role,
                                                                                      declared):
    account, other = declared(), declared()
    mine, theirs = upload(client, as_role, account), upload(client, as_role, other, PNG)
    assert client.delete(f"/household/documents/{mine}", headers=as_role("parent", account)).status_code == 204
    trail = actions(engine, account)

    for document_id in (mine, theirs, str(uuid.uuid4())):
        refused = client.delete(f"/household/documents/{document_id}", headers=as_role("parent", account))
        assert (refused.status_code, refused.json["code"]) == (404, "document-not-found")
    assert actions(engine, account) == trail
    assert (stored_documents(engine, account), stored_documents(engine, other), large_objects(engine)) == (0, 1, 1)
    assert client.delete(f"/household/documents/{theirs}", headers=as_role("agent")).status_code == 403
    assert client.delete(f"/household/documents/{theirs}").status_code == 401
    assert stored_documents(engine, other) == 1


def test_the_proof_of_a_validated_fact_is_kept_until_the_validation_goes(client, engine, as_role, declared):
    account = declared()
    proof = upload(client, as_role, account)
    validated = client.post(f"/agent/families/{account}/facts/quotient_tranche/validation",
                            json={"value": 2, "effective_from": date.today().isoformat(), "document_id": proof,
                                  "reason": REASON}, headers=as_role("agent", "agent-jemmapes-1"))
    assert validated.status_code == 200, validated.json
    trail = actions(engine, account)

    refused = client.delete(f"/household/documents/{proof}", headers=as_role("parent", account))
    assert (refused.status_code, refused.mimetype) == (409, "application/problem+json")
    assert (refused.json["code"], refused.json["document_id"]) == ("document-supports-validated-fact", proof)
    assert [error["field"] for error in refused.json["errors"]] == ["document_id"]
    assert (stored_documents(engine, account), large_objects(engine)) == (1, 1)
    assert actions(engine, account) == trail

    # The family declares another tranche: the validation goes (declared again), and the document may go too.
    read = client.get("/household", headers=as_role("parent", account))
    changed = client.put("/household", json={**FACTS, "quotient_tranche": 4},
                         headers=as_role("parent", account, **{"If-Match": read.headers["ETag"]}))
    assert changed.status_code == 200, changed.json
    assert client.delete(f"/household/documents/{proof}", headers=as_role("parent", account)).status_code == 204
    assert (stored_documents(engine, account), large_objects(engine)) == (0, 0)


def test_the_deletion_is_documented(client):
    operation = client.get("/openapi.json").json["paths"]["/household/documents/{document_id}"]["delete"]
    assert {"204", "404", "409"} <= operation["responses"].keys()
    assert operation["security"] == [{"bearerAuth": []}]
