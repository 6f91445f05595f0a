"""Supporting documents (issue 16, item 4): families and agents upload PDF, JPEG or PNG files of at most 5 MiB, the
type read from the content; refused uploads are 413/415/422 problems and store nothing; the bytes live in large
objects; the family and agents read them, nobody else; erasure takes them. Real PostgreSQL and Redis."""
import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.registrations.domain.documents import MAX_DOCUMENT_BYTES
from services.registrations.store.audit import family_entries
from services.registrations.store.tables import documents
from services.registrations.usecases.purge import RegistrationsRetention, purge
from shared.clock import utc_now
from tests.support.agents import new_family
from tests.support.documents import JPEG, PDF, PNG, CountingStream, large_objects, query, stored_documents

REASON = "Avis d'imposition 2025 apporté au guichet de la mairie du 11e"


def upload(client, headers, content, *, path="/household/documents", content_type="application/pdf", **fields):
    fields.setdefault("fact", "quotient_tranche")
    return client.post(f"{path}?{query(**fields)}", data=content, headers={**headers, "Content-Type": content_type})


def test_a_family_uploads_a_document_and_reads_it_back_from_a_large_object(client, engine, as_role):
    account, _ = new_family(engine)
    sent = upload(client, as_role("parent", account), PDF, filename="avis 2025.pdf")
    assert sent.status_code == 201, sent.json
    document_id = sent.json["document_id"]
    assert (sent.json["media_type"], sent.json["size_bytes"], sent.json["fact"], sent.json["filename"],
            sent.json["uploaded_by_role"]) == ("application/pdf", len(PDF), "quotient_tranche", "avis 2025.pdf",
                                               "parent")
    assert sent.headers["Location"].endswith(f"/household/documents/{document_id}")

    listed = client.get("/household/documents", headers=as_role("parent", account))
    assert [d["document_id"] for d in listed.json] == [document_id]
    read = client.get(f"/household/documents/{document_id}", headers=as_role("parent", account))
    assert (read.status_code, read.data, read.mimetype) == (200, PDF, "application/pdf")
    assert read.headers["X-Content-Type-Options"] == "nosniff"
    assert read.headers["Content-Disposition"] == f'attachment; filename="document-{document_id}.pdf"'
    # The bytes are a large object, not a column of the documents table.
    assert large_objects(engine) == 1
    assert "content" not in documents.c and "content_oid" in documents.c


def test_the_same_bytes_again_are_the_same_document_with_one_audit_entry(client, engine, as_role):
    account, _ = new_family(engine)
    first = upload(client, as_role("parent", account), PNG, content_type="image/png")
    again = upload(client, as_role("parent", account), PNG, content_type="image/png")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["document_id"] == first.json["document_id"]
    assert (stored_documents(engine, account), large_objects(engine)) == (1, 1)
    with engine.connect() as connection:
        entries = family_entries(connection, account)
    assert [(e.action, e.actor_role, e.target_id) for e in entries if e.action == "document.upload"] == [
        ("document.upload", "parent", first.json["document_id"])]


def test_the_type_is_read_from_the_content_not_the_header_nor_the_name(client, engine, as_role):
    account, _ = new_family(engine)
    png_said_pdf = upload(client, as_role("parent", account), PNG, filename="scan.pdf")
    assert (png_said_pdf.status_code, png_said_pdf.json["media_type"]) == (201, "image/png")
    jpeg = upload(client, as_role("parent", account), JPEG, content_type="application/octet-stream")
    assert (jpeg.status_code, jpeg.json["media_type"]) == (201, "image/jpeg")

    for disguised in (b"<html><script>alert(1)</script></html>", b"GIF89a\x01\x00", b"PK\x03\x04 avis.pdf"):
        refused = upload(client, as_role("parent", account), disguised, filename="avis.pdf")
        assert refused.status_code == 415, refused.json
        assert refused.mimetype == "application/problem+json"
        assert (refused.json["code"], refused.json["errors"][0]["field"]) == ("document-type-refused", "body")
    assert (stored_documents(engine, account), large_objects(engine)) == (2, 2)


def test_a_document_over_5_mib_is_refused_413_before_it_is_read(client, engine, as_role):
    account, _ = new_family(engine)
    body = CountingStream(MAX_DOCUMENT_BYTES + 1)
    refused = client.post(f"/household/documents?{query(fact='quotient_tranche')}", input_stream=body,
                          headers={**as_role("parent", account), "Content-Type": "application/pdf",
                                   "Content-Length": str(MAX_DOCUMENT_BYTES + 1)})
    assert refused.status_code == 413, refused.json
    assert refused.json["errors"][0]["field"] == "body"
    assert body.read_bytes == 0  # refused from its Content-Length
    at_the_limit = upload(client, as_role("parent", account), PDF + b"\0" * (MAX_DOCUMENT_BYTES - len(PDF)))
    assert (at_the_limit.status_code, at_the_limit.json["size_bytes"]) == (201, MAX_DOCUMENT_BYTES)
    assert (stored_documents(engine, account), large_objects(engine)) == (1, 1)


def test_a_chunked_body_is_read_to_one_byte_past_the_limit_at_most(client, engine, as_role):
    """A body without Content-Length (chunked; gunicorn terminates the input): read until past the limit, no more."""
    account, _ = new_family(engine)
    body = CountingStream(3 * MAX_DOCUMENT_BYTES)
    refused = client.post(f"/household/documents?{query(fact='quotient_tranche')}", input_stream=body,
                          headers={**as_role("parent", account), "Content-Type": "application/pdf",
                                   "Transfer-Encoding": "chunked"},
                          environ_overrides={"wsgi.input_terminated": True})
    assert refused.status_code == 413, refused.json
    assert refused.json["code"] == "document-too-large"
    assert body.read_bytes <= MAX_DOCUMENT_BYTES + 1
    small = client.post(f"/household/documents?{query(fact='single_parent')}", input_stream=io.BytesIO(JPEG),
                        headers={**as_role("parent", account), "Content-Type": "image/jpeg",
                                 "Transfer-Encoding": "chunked"},
                        environ_overrides={"wsgi.input_terminated": True})
    assert (small.status_code, small.json["size_bytes"]) == (201, len(JPEG))
    assert (stored_documents(engine, account), large_objects(engine)) == (1, 1)


@pytest.mark.parametrize("fields, content, field", [
    ({"fact": "income"}, PDF, "query.fact"),
    ({"fact": None}, PDF, "query.fact"),
    ({"fact": "disability_allowance"}, PDF, "query.child_id"),
    ({"fact": "single_parent", "child_id": "not-a-uuid"}, PDF, "query.child_id"),
    ({"fact": "quotient_tranche", "filename": "x" * 201}, PDF, "query.filename"),
    ({"fact": "quotient_tranche"}, b"", "body"),
])
def test_bad_fields_are_422_naming_the_field_and_store_nothing(client, engine, as_role, fields, content, field):
    account, _ = new_family(engine)
    refused = upload(client, as_role("parent", account), content, **fields)
    assert refused.status_code == 422, refused.json
    assert refused.mimetype == "application/problem+json"
    assert field in {error["field"] for error in refused.json["errors"]}
    assert (stored_documents(engine), large_objects(engine)) == (0, 0)


def test_a_childs_document_names_a_child_of_the_household(client, engine, as_role):
    account, child_id = new_family(engine)
    other = upload(client, as_role("parent", account), PDF, fact="disability_allowance", child_id=str(uuid.uuid4()))
    assert (other.status_code, other.json["errors"][0]["field"]) == (422, "query.child_id")
    own = upload(client, as_role("parent", account), PDF, fact="disability_allowance", child_id=str(child_id))
    assert (own.status_code, own.json["child_id"]) == (201, str(child_id))


def test_without_a_household_there_is_nothing_to_support(client, engine, as_role):
    refused = upload(client, as_role("parent", "family-without-household"), PDF)
    assert (refused.status_code, refused.json["code"]) == (404, "household-not-found")
    assert large_objects(engine) == 0


def test_only_the_family_and_agents_read_a_document(client, engine, as_role):
    account, _ = new_family(engine)
    other_family, _ = new_family(engine, first_name="Autre")
    document_id = upload(client, as_role("parent", account), PDF).json["document_id"]

    assert client.get(f"/household/documents/{document_id}", headers=as_role("parent", other_family)).status_code == 404
    assert client.get("/household/documents", headers=as_role("parent", other_family)).json == []
    assert client.get(f"/household/documents/{document_id}", headers=as_role("manager")).status_code == 403
    assert client.get(f"/agent/families/{account}/documents/{document_id}",
                      headers=as_role("manager")).status_code == 403
    assert client.get(f"/agent/families/{account}/documents/{document_id}",
                      headers=as_role("parent", account)).status_code == 403
    read = client.get(f"/agent/families/{account}/documents/{document_id}", headers=as_role("agent"))
    assert (read.status_code, read.data) == (200, PDF)
    assert client.get(f"/agent/families/{other_family}/documents/{document_id}",
                      headers=as_role("agent")).status_code == 404
    assert client.get("/agent/families/family-unknown/documents", headers=as_role("agent")).status_code == 404


def test_an_agent_uploads_for_the_family_with_a_reason(client, engine, as_role):
    account, _ = new_family(engine)
    path = f"/agent/families/{account}/documents"
    without_reason = upload(client, as_role("agent", "agent-jemmapes-1"), PDF, path=path)
    assert (without_reason.status_code, without_reason.json["errors"][0]["field"]) == (422, "query.reason")
    sent = upload(client, as_role("agent", "agent-jemmapes-1"), PDF, path=path, reason=REASON)
    assert (sent.status_code, sent.json["uploaded_by_role"]) == (201, "agent")
    assert client.get("/household/documents", headers=as_role("parent", account)).json[0]["document_id"] == (
        sent.json["document_id"])
    with engine.connect() as connection:
        entry = family_entries(connection, account)[-1]
    assert (entry.action, entry.actor_subject, entry.on_behalf_of, entry.changes["reason"]["after"]) == (
        "document.upload", "agent-jemmapes-1", account, REASON)


def test_erasure_takes_the_documents_and_their_bytes(client, engine, as_role):
    account, _ = new_family(engine)
    kept_family, _ = new_family(engine, first_name="Autre")
    upload(client, as_role("parent", account), PDF)
    upload(client, as_role("parent", account), PNG, fact="single_parent")
    upload(client, as_role("parent", kept_family), JPEG)
    assert large_objects(engine) == 3

    erased = client.post("/household/erasure", headers=as_role("parent", account))
    assert erased.status_code == 200, erased.json
    assert (stored_documents(engine, account), stored_documents(engine, kept_family), large_objects(engine)) == (0, 1, 1)
    with engine.connect() as connection:
        left = connection.execute(select(documents.c.family_account)).scalars().all()
    assert left == [kept_family]


def test_a_removed_childs_documents_go_when_its_record_is_purged(client, engine, as_role):
    account, child_id = new_family(engine)
    headers = as_role("parent", account)
    for_child = upload(client, headers, PDF, fact="disability_allowance", child_id=str(child_id)).json
    for_tranche = upload(client, headers, PNG).json
    assert client.delete(f"/household/children/{child_id}", headers=headers).status_code == 204
    retention = RegistrationsRetention(applications=timedelta(days=3 * 365), removed_children=timedelta(days=90),
                                       inbox=timedelta(days=60))

    assert purge(engine, utc_now(), retention)["removed_children_documents"] == 0  # the child is kept 90 days
    counts = purge(engine, utc_now() + timedelta(days=91), retention)
    assert (counts["removed_children"], counts["removed_children_documents"]) == (1, 1)
    listed = client.get("/household/documents", headers=headers).json
    assert [d["document_id"] for d in listed] == [for_tranche["document_id"]]
    assert large_objects(engine) == 1
    assert client.get(f"/household/documents/{for_child['document_id']}", headers=headers).status_code == 404
