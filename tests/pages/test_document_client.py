"""The portal's client for supporting documents against a real (tiny) HTTP server: an upload goes as the file's
bytes with its fields in the query and the person's token; a refusal comes back in French and lands next to the
form's field; a download is passed on in pieces as an attachment of one of the three document types, anything else
as bytes to save (never HTML shown in the portal's origin)."""
import json
from http.server import BaseHTTPRequestHandler

import pytest

from services.portal.client.api import STREAM_CHUNK_BYTES, ApiError, ServiceClient
from services.portal.web.documents import document_file, kept_filename, upload_errors
from tests.support.documents import PDF
from tests.support.stub_http import serving

DOCUMENT_ID = "6f1c1a52-8d8b-4d55-9a58-0a3c2a6d9b1e"
LARGE = PDF + bytes(range(256)) * 1000  # several pieces of STREAM_CHUNK_BYTES


def problem(status: int, code: str, **extra) -> bytes:
    return json.dumps({"type": f"urn:guichet:problem:{code}", "status": status, "code": code, **extra}).encode()


@pytest.fixture
def documents_service():
    """Stores what it is sent; answers a refusal when the query asks for one, and a file of the type asked for."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 — http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "content_type": self.headers["Content-Type"],
                             "authorization": self.headers["Authorization"], "body": body})
            if "refuse=type" in self.path:
                return self.answer(415, problem(415, "document-type-refused", errors=[
                    {"field": "body", "code": "document-type-refused", "detail": "Not a PDF."}]),
                    "application/problem+json")
            if "refuse=size" in self.path:  # the service's own body limit, worded for programs
                return self.answer(413, problem(413, "body-too-large", detail="At most 32768 bytes."),
                                   "application/problem+json")
            if "refuse=fields" in self.path:
                return self.answer(422, problem(422, "document-invalid", errors=[
                    {"field": "query.child_id", "code": "child-missing", "detail": "Name the child."},
                    {"field": "body", "code": "document-empty", "detail": "The document is empty."}]),
                    "application/problem+json")
            return self.answer(201, json.dumps({"document_id": DOCUMENT_ID, "size_bytes": len(body)}).encode(),
                               "application/json")

        def do_GET(self):  # noqa: N802
            if self.path.endswith("/missing"):
                return self.answer(404, problem(404, "document-not-found"), "application/problem+json")
            self.answer(200, LARGE, "text/html; charset=utf-8" if self.path.endswith("/html") else "application/pdf")

    with serving(Handler) as url:
        yield url, received


def test_an_upload_sends_the_files_bytes_its_fields_in_the_query_and_the_persons_token(documents_service):
    url, received = documents_service
    answer = ServiceClient("registrations", url, bearer="the-parents-token").upload(
        "/household/documents", PDF, {"fact": "disability_allowance", "child_id": "c-1", "filename": "aeeh 2026.pdf"})
    assert (answer.status, answer.data) == (201, {"document_id": DOCUMENT_ID, "size_bytes": len(PDF)})
    assert received == [{"path": "/household/documents?fact=disability_allowance&child_id=c-1&filename=aeeh+2026.pdf",
                         "content_type": "application/octet-stream", "authorization": "Bearer the-parents-token",
                         "body": PDF}]


def test_upload_refusals_are_said_in_french_next_to_the_forms_fields(documents_service):
    url, _ = documents_service
    client = ServiceClient("registrations", url, bearer="t")
    with pytest.raises(ApiError) as wrong_type:
        client.upload("/household/documents", b"<html>", {"refuse": "type"})
    assert upload_errors(wrong_type.value) == {"document": (
        "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu est vérifié, pas seulement son nom) : "
        "enregistrez-le dans l'un de ces formats. Rien n'a été enregistré.")}
    with pytest.raises(ApiError) as too_large:
        client.upload("/household/documents", PDF, {"refuse": "size"})
    assert upload_errors(too_large.value) == {"document": (
        "Ce fichier dépasse 5 Mo : envoyez un fichier plus léger (une photo moins grande, un PDF compressé). Rien n'a "
        "été enregistré.")}
    with pytest.raises(ApiError) as wrong_fields:
        client.upload("/household/documents", b"", {"refuse": "fields"})
    assert upload_errors(wrong_fields.value) == {"fact": "Choisissez l'enfant concerné.",
                                                 "document": "Ce fichier est vide : choisissez le bon fichier."}


def test_a_download_is_passed_on_in_pieces_as_an_attachment_of_its_type(documents_service):
    url, _ = documents_service
    streamed = ServiceClient("registrations", url, bearer="t").stream(f"/household/documents/{DOCUMENT_ID}")
    pieces = list(streamed.chunks())
    assert b"".join(pieces) == LARGE and len(pieces) > 1 and max(map(len, pieces)) <= STREAM_CHUNK_BYTES
    answer = document_file(ServiceClient("registrations", url).stream("/pdf"), DOCUMENT_ID)
    assert (answer.mimetype, answer.headers["Content-Length"]) == ("application/pdf", str(len(LARGE)))
    assert answer.headers["Content-Disposition"] == f'attachment; filename="justificatif-{DOCUMENT_ID}.pdf"'
    assert (answer.headers["X-Content-Type-Options"], answer.headers["Cache-Control"]) == (
        "nosniff", "private, no-store")
    assert b"".join(answer.response) == LARGE


def test_a_download_of_any_other_type_is_bytes_to_save_never_a_page(documents_service):
    url, _ = documents_service
    answer = document_file(ServiceClient("registrations", url).stream("/html"), DOCUMENT_ID)
    assert answer.mimetype == "application/octet-stream"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="justificatif-{DOCUMENT_ID}.bin"'


def test_a_missing_document_is_an_api_error_in_french(documents_service):
    url, _ = documents_service
    with pytest.raises(ApiError) as missing:
        ServiceClient("registrations", url).stream("/missing")
    assert (missing.value.status, missing.value.code) == (404, "document-not-found")
    assert missing.value.message == "Ce justificatif est introuvable (il a peut-être été supprimé)."


def test_a_file_name_is_kept_printable_single_spaced_and_within_the_limit_with_its_extension():
    assert kept_filename("  avis\td'impôt\n 2026.pdf ") == "avis d'impôt 2026.pdf"
    long = kept_filename("a" * 300 + ".jpeg")
    assert len(long) == 200 and long.endswith("a.jpeg")
    assert kept_filename("\x00\x01") is None and kept_filename(None) is None
