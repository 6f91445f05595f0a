"""« Mes justificatifs » (issue 16, item 4): a family sends the documents a city agent validates its facts from (its
quotient tranche, single-parent status, a child's disability allowance), lists them with what each supports once
validated (« validé le …, à compter du … »), downloads one, and deletes one no validation rests on. Over
registrations' `/household/documents`.

The limits are said before a file is chosen (PDF, JPEG or PNG, 5 Mo at most); registrations judges them (the type
from the content), and its 413, 415 and 422 come back here as French messages next to the field. A file is passed
on as it is read, as an attachment that is never sniffed nor shown inline (`document_file`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from services.portal.client.api import ApiError, Streamed
from services.portal.web.access import client, role_required
from services.portal.web.parents import read_household
from services.portal.wording import FACT_STATUSES, FACTS, PROBLEMS
from shared.errors import PayloadTooLarge

blp = Blueprint("documents", __name__)
parent_only = role_required("parent")

# Registrations' limit on a document (services/registrations/domain/documents.py, 5 MiB): said on the form, and
# checked here only so that a larger file is not sent on to be refused there.
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
# The form around the file (its boundaries, the anti-forgery token, the fact): the portal reads that much more
# before refusing a body as too large (its other forms keep shared.web's limit).
FORM_ALLOWANCE_BYTES = 64 * 1024
MAX_FILENAME_LENGTH = 200
# What a download may be answered as: the three formats a document can be (read from its content at upload).
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
ALLOWANCE = "disability_allowance"
# The API's fields (an upload's fields are its query, its content the body) → the form's.
UPLOAD_FIELDS = {"body": "document", "query.filename": "document", "query.fact": "fact", "query.child_id": "fact"}
FILE_MISSING = "Choisissez le fichier à envoyer."
FACT_MISSING = "Choisissez ce que ce justificatif prouve."


def allow_document_bodies(blueprint: Blueprint, upload_endpoint: str) -> None:
    """The upload's own body limit, a document's and its form's, set before shared.web's limit is checked."""
    @blueprint.url_value_preprocessor
    def _upload_bodies(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if request.method == "POST" and endpoint == upload_endpoint:
            request.max_content_length = DOCUMENT_MAX_BYTES + FORM_ALLOWANCE_BYTES


allow_document_bodies(blp, "documents.upload")


@dataclass(frozen=True)
class UploadForm:
    """What an upload form sent: the fact chosen, the file's bytes and name, and what is wrong before it is sent on
    (`status` 413 for a file over the limit, 422 for a missing field)."""
    choice: str
    content: bytes
    filename: str | None
    errors: dict[str, str]
    status: int = 200


def read_upload_form(**required: tuple[str, bool]) -> UploadForm:
    """The form's fact and file, checked as the family's form and the agents' do; `required` adds the form's own
    fields: name → (message, missing)."""
    choice = request.form.get("fact", "")
    sent = request.files.get("document")
    content = sent.read() if sent else b""
    filename = kept_filename(sent.filename if sent else None)
    if len(content) > DOCUMENT_MAX_BYTES:
        return UploadForm(choice, content, filename, {"document": PROBLEMS["document-too-large"]}, 413)
    errors = {name: message for name, (message, missing) in {
        "fact": (FACT_MISSING, not choice), "document": (FILE_MISSING, not content and not (sent and sent.filename)),
        **required}.items() if missing}
    return UploadForm(choice, content, filename, errors, 422 if errors else 200)


# --- what a page shows of the documents -----------------------------------------------------------------------

def fact_options(household: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The form's choices: the two household facts, then each child's allowance (`disability_allowance:<id>`)."""
    children = (household or {}).get("children", ())
    return [("quotient_tranche", FACTS["quotient_tranche"]), ("single_parent", FACTS["single_parent"]),
            *((f"{ALLOWANCE}:{c['child_id']}", f"AEEH de {c['first_name']} {c['last_name']}") for c in children)]


def fact_and_child(choice: str) -> tuple[str, str | None]:
    fact, _, child_id = choice.partition(":")
    return fact, child_id or None


def children_names(household: dict[str, Any] | None) -> dict[str, str]:
    return {c["child_id"]: f"{c['first_name']} {c['last_name']}" for c in (household or {}).get("children", ())}


def fact_name(fact: str, child_id: str | None, names: dict[str, str]) -> str:
    if fact == ALLOWANCE:
        return f"AEEH de {names.get(child_id or '', 'un enfant')}"
    return FACTS.get(fact, fact)


def fact_value(state: dict[str, Any]) -> str:
    value = state.get("value")
    if state["fact"] == "quotient_tranche":
        return f"tranche {value}" if value is not None else "aucune tranche"
    return "oui" if value else "non"


def supported_facts(household: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """Document id → the facts validated from it that still hold (the household's `facts`)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for state in (household or {}).get("facts", ()):
        if state.get("status") == "validated" and state.get("document_id"):
            found.setdefault(state["document_id"], []).append(state)
    return found


def document_rows(documents: list[dict[str, Any]], household: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each document, newest first, with its fact in words and the validations resting on it."""
    names, supports = children_names(household), supported_facts(household)
    return [{**d, "what": fact_name(d["fact"], d.get("child_id"), names),
             "kind": EXTENSIONS.get(d["media_type"], "fichier").upper(),
             "supports": [{**s, "name": fact_name(s["fact"], s.get("child_id"), names), "shown": fact_value(s)}
                          for s in supports.get(d["document_id"], ())]}
            for d in reversed(documents)]


def fact_states(household: dict[str, Any] | None) -> list[dict[str, Any]]:
    names = children_names(household)
    return [{**s, "name": fact_name(s["fact"], s.get("child_id"), names), "shown": fact_value(s),
             "status_text": FACT_STATUSES.get(s.get("status"), s.get("status"))}
            for s in (household or {}).get("facts", ())]


def size_text(size_bytes: int) -> str:
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / (1024 * 1024):.1f} Mo".replace(".", ",")
    return f"{max(1, round(size_bytes / 1024))} ko"


def document_file(streamed: Streamed, document_id: str) -> Response:
    """A document passed on as it is read: an attachment (never displayed in the portal's origin), of one of the
    three types a document can be (anything else goes as bytes to save), not to be sniffed nor kept."""
    headers = {name.lower(): value for name, value in streamed.headers.items()}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    extension = EXTENSIONS.get(media_type)
    if extension is None:
        media_type, extension = "application/octet-stream", "bin"
    sent = {"Content-Disposition": f'attachment; filename="justificatif-{document_id}.{extension}"',
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
    if (length := headers.get("content-length", "")).isdigit():
        sent["Content-Length"] = length
    return Response(streamed.chunks(), mimetype=media_type, headers=sent)


def kept_filename(name: str | None) -> str | None:
    """The name shown back: printable, single-spaced, at most registrations' 200 characters (its extension kept)."""
    words = ("".join(ch for ch in word if ch.isprintable()) for word in (name or "").split())
    kept = " ".join(word for word in words if word)
    if len(kept) > MAX_FILENAME_LENGTH:
        stem, dot, extension = kept.rpartition(".")
        tail = f".{extension}" if dot and len(extension) <= 5 else ""
        kept = kept[:MAX_FILENAME_LENGTH - len(tail)] + tail
    return kept or None


def upload_errors(error: ApiError) -> dict[str, str]:
    """An upload's refusal next to the form's field: the file for 413 and 415, each named field for 422."""
    if error.status == 413:  # document-too-large, or the service's body limit (body-too-large): the same to a family
        return {"document": PROBLEMS["document-too-large"]}
    if error.status == 415:
        return {"document": error.message}
    found = {UPLOAD_FIELDS.get(name, "document"): message for name, message in error.field_errors.items()}
    return found or {"document": error.message}


# --- the family's pages ------------------------------------------------------------------------------------------

def documents_page(*, choice: str = "", errors: dict[str, str] | None = None, status: int = 200):
    household = read_household()
    documents = client("registrations").get("/household/documents").data if household else []
    return render_template("parents/documents.html", household=household,
                           documents=document_rows(documents, household), options=fact_options(household),
                           choice=choice, errors=errors or {}, max_megabytes=DOCUMENT_MAX_BYTES // (1024 * 1024),
                           size_text=size_text), status


@blp.get("/justificatifs")
@parent_only
def documents():
    return documents_page()


@blp.errorhandler(PayloadTooLarge)
@blp.errorhandler(RequestEntityTooLarge)
def too_large(_: Exception):
    """A body past the upload's limit, refused before the form was read (shared.web, or werkzeug for a chunked
    one): said next to the file field like registrations' own 413."""
    return documents_page(errors={"document": PROBLEMS["document-too-large"]}, status=413)


@blp.post("/justificatifs")
@parent_only
def upload():
    form = read_upload_form()
    if form.errors:
        return documents_page(choice=form.choice, errors=form.errors, status=form.status)
    fact, child_id = fact_and_child(form.choice)
    try:
        client("registrations").upload("/household/documents", form.content, {
            "fact": fact, "child_id": child_id, "filename": form.filename})
    except ApiError as error:
        if error.status == 404:
            flash(error.message)
            return redirect(url_for("parents.family"))
        if error.status not in (413, 415, 422):
            raise
        return documents_page(choice=form.choice, errors=upload_errors(error), status=error.status)
    flash("Votre justificatif est envoyé. Un agent de la Ville le vérifiera ; vous verrez ici ce qu'il valide.")
    return redirect(url_for("documents.documents"))


@blp.get("/justificatifs/<uuid:document_id>/fichier")
@parent_only
def document_download(document_id):
    try:
        streamed = client("registrations").stream(f"/household/documents/{document_id}")
    except ApiError as error:
        if error.status != 404:
            raise
        return render_template("error.html", status=404, message=PROBLEMS["document-not-found"]), 404
    return document_file(streamed, str(document_id))


@blp.post("/justificatifs/<uuid:document_id>/suppression")
@parent_only
def delete(document_id):
    try:
        client("registrations").call("DELETE", f"/household/documents/{document_id}")
    except ApiError as error:
        if error.status not in (404, 409):
            raise
        flash(error.message)
    else:
        flash("Le justificatif est supprimé.")
    return redirect(url_for("documents.documents"))

