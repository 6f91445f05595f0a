"""Supporting documents (issue 16): what a family sends so that an agent can validate a household fact (an income
tax notice for the quotient, a CAF certificate, the AEEH decision for a child's allowance).

A document is a PDF, a JPEG or a PNG of at most `MAX_DOCUMENT_BYTES`. Its type is read from its first bytes (the
formats' signatures), never from what the client says it is: a file named `avis.pdf` holding HTML is refused.
Plain values, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.registrations.domain.facts import DISABILITY_ALLOWANCE, VALIDATED_FACTS
from shared.domain.violations import RuleViolation, Violation

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024  # 5 MiB
MAX_FILENAME_LENGTH = 200
# The formats accepted and the bytes each file of the format starts with.
SIGNATURES = (
    ("application/pdf", b"%PDF-"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
)
MEDIA_TYPES = tuple(media_type for media_type, _ in SIGNATURES)
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


@dataclass(frozen=True)
class Document:
    document_id: UUID
    family_account: str
    fact: str  # what the family sent it for (one of facts.VALIDATED_FACTS)
    child_id: UUID | None
    media_type: str  # read from the content
    size_bytes: int
    sha256: str
    filename: str | None
    uploaded_at: datetime
    uploaded_by_role: str  # parent, or agent


class DocumentTooLarge(Exception):
    def __init__(self, limit: int = MAX_DOCUMENT_BYTES):
        super().__init__(f"A document is at most {limit} bytes ({limit // (1024 * 1024)} MiB).")
        self.limit = limit


class DocumentTypeRefused(Exception):
    def __init__(self):
        super().__init__("A document is a PDF, a JPEG or a PNG file; this content is none of them.")


class DocumentInvalid(RuleViolation):
    """The upload's fields (or an empty body) break a rule."""


class DocumentNotFound(Exception):
    """No document of this family has this id (another family's is not found either)."""

    def __init__(self, document_id: UUID):
        super().__init__(f"no document {document_id} for this family")
        self.document_id = document_id


def media_type_of(content: bytes) -> str | None:
    """The format `content` is in, from its signature; None for any other content."""
    return next((media_type for media_type, signature in SIGNATURES if content.startswith(signature)), None)


def checked_upload(content: bytes, fact: str, child_id: UUID | None, filename: str | None,
                   present_children: frozenset[UUID]) -> tuple[str, str | None]:
    """The content's media type and the filename kept (single-spaced, None when blank), or the refusal: too
    large, not a PDF/JPEG/PNG, or fields that break a rule (every one named)."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge()
    violations = []
    if fact not in VALIDATED_FACTS:
        violations.append(Violation("fact-unknown", "fact", f"A document supports one of {', '.join(VALIDATED_FACTS)}."))
    if fact == DISABILITY_ALLOWANCE and child_id is None:
        violations.append(Violation("child-missing", "child_id", "Name the child the allowance is for."))
    if child_id is not None and fact != DISABILITY_ALLOWANCE:
        violations.append(Violation("child-not-applicable", "child_id", "Only the allowance is a child's fact."))
    elif child_id is not None and child_id not in present_children:
        violations.append(Violation("child-unknown", "child_id", "The household has no such child."))
    kept = " ".join(filename.split()) or None if filename is not None else None
    if kept is not None and (len(kept) > MAX_FILENAME_LENGTH or not kept.isprintable()):
        violations.append(Violation("filename-invalid", "filename",
                                    f"A file name is at most {MAX_FILENAME_LENGTH} printable characters."))
    if not content:
        violations.append(Violation("document-empty", "body", "The document is empty."))
    if violations:
        raise DocumentInvalid(violations)
    media_type = media_type_of(content)
    if media_type is None:
        raise DocumentTypeRefused()
    return media_type, kept


def download_name(document: Document) -> str:
    """The name a download is saved under: the document's id and the extension of its real type (never the
    client's name, which could carry another extension)."""
    return f"document-{document.document_id}.{EXTENSIONS[document.media_type]}"
