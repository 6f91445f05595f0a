"""Supporting documents for parents (issue 16): upload one for a declared fact, list them, read one back.

The body of an upload is the file itself; its fields are the query. A body over `MAX_DOCUMENT_BYTES` is refused
413 from its Content-Length before anything is read, and a body without one (chunked) is read to at most one byte
past the limit; the type is read from the content (415 for anything but a PDF, a JPEG or a PNG, whatever the
Content-Type or the name say); bad fields are 422. A refused upload stores nothing. Only the family reads and deletes
its own documents here (another family's id is 404, as an unknown one); agents read them through
web/agent_documents.py.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from services.registrations.bootstrap import RegistrationsComponents
from services.registrations.domain.documents import (
    MAX_DOCUMENT_BYTES,
    MEDIA_TYPES,
    Document,
    DocumentTooLarge,
    download_name,
)
from services.registrations.usecases.documents import Documents, Upload
from services.registrations.web.schemas import DocumentFieldsSchema, DocumentSchema
from shared.audit_web import request_actor
from shared.auth import current_principal, require_roles
from shared.errors import PROBLEM_CONTENT_TYPE
from shared.web import ProblemSchema

PARENT = "parent"
READ_CHUNK_BYTES = 64 * 1024
PROBLEM = {"schema": ProblemSchema, "content_type": PROBLEM_CONTENT_TYPE}
FILE_BODY = {"required": True, "description": f"the file itself: a PDF, a JPEG or a PNG of at most {MAX_DOCUMENT_BYTES} "
             "bytes; its type is read from its content",
             "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in MEDIA_TYPES}}
FILE_ANSWER = {"description": "the document's bytes, as uploaded",
               "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in MEDIA_TYPES}}


def upload_refusals(view):
    """The refusals every upload documents (the parents' and the agents')."""
    for status, description in (
            (413, "Larger than the limit (document-too-large, body-too-large): nothing stored"),
            (415, "Not a PDF, a JPEG or a PNG, read from the content (document-type-refused): nothing stored"),
            (422, "A field is wrong, or the body is empty (document-invalid): nothing stored")):
        view = blp.alt_response(status, description=description, **PROBLEM)(view)
    return view

blp = Blueprint("documents", __name__,
                description="Supporting documents a family sends so that a city agent can validate its quotient "
                            "tranche, single-parent status or a child's disability allowance.")


def allow_document_bodies(endpoint: str | None, values: dict[str, Any] | None, uploads: frozenset[str]) -> None:
    """A url_value_preprocessor runs before the app's body limit: an upload's limit is the document's."""
    if request.method == "POST" and endpoint in uploads:
        request.max_content_length = MAX_DOCUMENT_BYTES


@blp.url_value_preprocessor
def _document_bodies(endpoint: str | None, values: dict[str, Any] | None) -> None:
    allow_document_bodies(endpoint, values, frozenset({"documents.OwnDocuments"}))


def read_body() -> bytes:
    """The request's body: as long as its Content-Length says (at most the limit: werkzeug refused a longer one
    from its header), or, without one (chunked), to at most one byte past the limit. Reading no further than the
    Content-Length matters under gunicorn, which marks the input terminated: werkzeug then refuses any read at
    the limit, so a probe past a body of exactly 5 MiB would refuse it."""
    if request.is_json:  # the app's JSON depth check read it already, within request.max_content_length
        return request.get_data(cache=True)
    declared = request.content_length
    bound = MAX_DOCUMENT_BYTES + 1 if declared is None else min(declared, MAX_DOCUMENT_BYTES)
    chunks, size = [], 0
    try:
        while size < bound:
            chunk = request.stream.read(min(READ_CHUNK_BYTES, bound - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:  # a chunked body past request.max_content_length
        raise DocumentTooLarge() from None
    return b"".join(chunks)


def upload_answer(document: Document, stored: bool, location: str) -> tuple[Document, int, dict[str, str]]:
    return document, 201 if stored else 200, {"Location": location}


def file_answer(document: Document, content: bytes) -> Response:
    return Response(content, mimetype=document.media_type, headers={
        "Content-Disposition": f'attachment; filename="{download_name(document)}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


def documents() -> Documents:
    components = RegistrationsComponents.current()
    return Documents(components.engine, components.clock)


@blp.route("/household/documents")
class OwnDocuments(MethodView):
    @require_roles(PARENT)
    @blp.arguments(DocumentFieldsSchema, location="query")
    @blp.response(201, DocumentSchema, description="stored (200: these bytes were already uploaded: that document)")
    @blp.doc(requestBody=FILE_BODY)
    @upload_refusals
    @blp.alt_response(404, description="No household declared yet (household-not-found)", **PROBLEM)
    def post(self, fields):
        """Send a supporting document for one of my facts (the body is the file)

        Sending the same bytes again answers the document already stored (200), so a retry is safe."""
        family_account = current_principal().subject
        document, stored = documents().upload(request_actor(PARENT), family_account, Upload(read_body(), **fields))
        return upload_answer(document, stored, url_for("documents.OwnDocument", document_id=document.document_id))

    @require_roles(PARENT)
    @blp.response(200, DocumentSchema(many=True))
    def get(self):
        """My supporting documents, oldest first"""
        return documents().of_family(current_principal().subject)


@blp.route("/household/documents/<uuid:document_id>")
class OwnDocument(MethodView):
    @require_roles(PARENT)
    @blp.doc(responses={200: FILE_ANSWER})
    @blp.alt_response(404, description="No document of mine has this id (document-not-found)", **PROBLEM)
    def get(self, document_id: UUID):
        """One of my supporting documents: its bytes"""
        return file_answer(*documents().read(current_principal().subject, document_id))

    @require_roles(PARENT)
    @blp.response(204)
    @blp.alt_response(404, description="No document of mine has this id, or it is deleted already "
                                       "(document-not-found): nothing changed", **PROBLEM)
    @blp.alt_response(409, description="The document is the proof of a fact an agent validated "
                                       "(document-supports-validated-fact, with `document_id`): kept", **PROBLEM)
    def delete(self, document_id: UUID):
        """Delete one of my supporting documents, its file with it

        Refused while a validated fact rests on it: the city keeps that proof as long as the validation holds (it
        goes when the value changes, or with the family's erasure)."""
        documents().delete(request_actor(PARENT), current_principal().subject, document_id)
