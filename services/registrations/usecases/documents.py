"""Supporting documents (issue 16): a family uploads one for a fact it declared (or a city agent does it for the
family at the counter, with a reason), and the family and agents read them back.

An upload is checked whole before anything is written (size, type from the content, fields): a refusal stores
nothing. The household must be declared (its row is locked meanwhile, so the same bytes sent twice at once are one
document). Each stored upload leaves one entry on the family's audit chain in its transaction; sending bytes the
family already uploaded returns that document and changes nothing.

The family may delete one of its documents (row and bytes, one entry), except one a validation of its facts rests on:
the city keeps the proof of a validated fact while the validation holds (docs/privacy.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Engine

from services.registrations.domain.documents import Document, DocumentNotFound, checked_upload
from services.registrations.domain.household import declared
from services.registrations.store.audit import record_family_change
from services.registrations.store.documents import (
    delete_document,
    document_content,
    family_document,
    family_documents,
    store_document,
    supports_validation,
)
from services.registrations.store.households import load_household
from shared.audit import Actor
from shared.clock import Clock
from shared.db import transaction


class DocumentSupportsValidation(Exception):
    """The document is the proof of a validated fact: the city keeps it while the validation holds."""

    def __init__(self, document_id: UUID):
        super().__init__("This document is the proof of a fact a city agent validated: it is kept while the "
                         "validation holds (it goes when the value changes, or with the family's erasure).")
        self.document_id = document_id


@dataclass(frozen=True)
class Upload:
    content: bytes
    fact: str
    child_id: UUID | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Documents:
    engine: Engine
    clock: Clock

    def upload(self, actor: Actor, family_account: str, upload: Upload, reason: str | None = None
               ) -> tuple[Document, bool]:
        """The document, and whether it was stored now (False: the family had already sent these bytes)."""
        with transaction(self.engine) as connection:
            household = declared(load_household(connection, family_account, for_update=True), family_account)
            media_type, filename = checked_upload(upload.content, upload.fact, upload.child_id, upload.filename,
                                                  frozenset(child.child_id for child in household.children))
            now = self.clock()
            document, stored = store_document(
                connection, family_account, fact=upload.fact, child_id=upload.child_id, media_type=media_type,
                content=upload.content, filename=filename, uploaded_at=now, uploaded_by_subject=actor.subject,
                uploaded_by_role=actor.role)
            if stored:
                record_family_change(connection, actor, "document.upload", "document", str(document.document_id),
                                     None, audited(document), now, reason=reason, family_account=family_account)
        return document, stored

    def delete(self, actor: Actor, family_account: str, document_id: UUID) -> Document:
        """The document deleted with its bytes; DocumentNotFound for another family's, an unknown or a deleted one,
        DocumentSupportsValidation for a validated fact's proof. The household's row lock orders it with a
        validation naming the same document."""
        with transaction(self.engine) as connection:
            load_household(connection, family_account, for_update=True)
            document = family_document(connection, family_account, document_id)
            if document is None:
                raise DocumentNotFound(document_id)
            if supports_validation(connection, document_id):
                raise DocumentSupportsValidation(document_id)
            delete_document(connection, family_account, document_id)
            record_family_change(connection, actor, "document.delete", "document", str(document_id),
                                 audited(document), None, self.clock(), family_account=family_account)
        return document

    def of_family(self, family_account: str) -> list[Document]:
        with self.engine.connect() as connection:
            return family_documents(connection, family_account)

    def read(self, family_account: str, document_id: UUID) -> tuple[Document, bytes]:
        """The document and its bytes; DocumentNotFound for another family's as for an unknown id."""
        with self.engine.connect() as connection:
            document = family_document(connection, family_account, document_id)
            content = None if document is None else document_content(connection, family_account, document_id)
        if document is None or content is None:
            raise DocumentNotFound(document_id)
        return document, content


def audited(document: Document) -> dict[str, object]:
    """What the audit trail keeps of a document: its description, never its bytes."""
    return {"fact": document.fact, "child_id": document.child_id, "media_type": document.media_type,
            "size_bytes": document.size_bytes, "sha256": document.sha256, "filename": document.filename}
