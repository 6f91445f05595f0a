"""Supporting documents in PostgreSQL: a row in `documents` describes each one, its bytes are a large object
(`lo_from_bytea`, read back with `lo_get`, removed with `lo_unlink`), so no query of the main tables ever carries
them. A large object is not deleted with the row that names it: every delete here unlinks it in the same
transaction (docs/registrations.md#documents)."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy import Connection

from services.registrations.domain.documents import Document
from services.registrations.store.tables import children, documents, fact_validations

DESCRIPTION = (documents.c.document_id, documents.c.family_account, documents.c.fact, documents.c.child_id,
               documents.c.media_type, documents.c.size_bytes, documents.c.sha256, documents.c.filename,
               documents.c.uploaded_at, documents.c.uploaded_by_role)


def store_document(connection: Connection, family_account: str, *, fact: str, child_id: UUID | None,
                   media_type: str, content: bytes, filename: str | None, uploaded_at: datetime,
                   uploaded_by_subject: str, uploaded_by_role: str) -> tuple[Document, bool]:
    """The document, and whether it was stored now: the same bytes already uploaded by the family are that
    document. The caller holds the household's row lock, so two uploads of the same bytes cannot race."""
    digest = hashlib.sha256(content).hexdigest()
    existing = connection.execute(sa.select(*DESCRIPTION).where(
        documents.c.family_account == family_account, documents.c.sha256 == digest)).mappings().first()
    if existing is not None:
        return _document(existing), False
    row = connection.execute(sa.insert(documents).values(
        document_id=uuid4(), family_account=family_account, fact=fact, child_id=child_id, media_type=media_type,
        size_bytes=len(content), sha256=digest, filename=filename, uploaded_at=uploaded_at,
        uploaded_by_subject=uploaded_by_subject, uploaded_by_role=uploaded_by_role,
        content_oid=sa.func.lo_from_bytea(0, sa.bindparam("content", content, type_=sa.LargeBinary)),
    ).returning(*DESCRIPTION)).mappings().one()
    return _document(row), True


def family_documents(connection: Connection, family_account: str) -> list[Document]:
    rows = connection.execute(sa.select(*DESCRIPTION).where(documents.c.family_account == family_account)
                              .order_by(documents.c.uploaded_at, documents.c.document_id)).mappings()
    return [_document(row) for row in rows]


def family_document(connection: Connection, family_account: str, document_id: UUID) -> Document | None:
    """The family's document with this id; None for an unknown id and for another family's."""
    row = connection.execute(sa.select(*DESCRIPTION).where(
        documents.c.family_account == family_account, documents.c.document_id == document_id)).mappings().first()
    return None if row is None else _document(row)


def document_content(connection: Connection, family_account: str, document_id: UUID) -> bytes | None:
    return connection.execute(sa.select(sa.func.lo_get(documents.c.content_oid)).where(
        documents.c.family_account == family_account, documents.c.document_id == document_id)).scalar_one_or_none()


def supports_validation(connection: Connection, document_id: UUID) -> bool:
    """A validation of the family's facts rests on this document (the proof the city keeps)."""
    return connection.execute(sa.select(sa.exists().where(fact_validations.c.document_id == document_id))).scalar_one()


def delete_document(connection: Connection, family_account: str, document_id: UUID) -> bool:
    """The family's document, bytes included (its large object unlinked in the same transaction); False when the
    family has no document with this id."""
    mine = sa.and_(documents.c.family_account == family_account, documents.c.document_id == document_id)
    connection.execute(sa.select(sa.func.lo_unlink(documents.c.content_oid)).where(mine))
    return connection.execute(sa.delete(documents).where(mine)).rowcount > 0


def delete_family_documents(connection: Connection, family_account: str) -> int:
    """Every document of the family, bytes included, and the validations resting on them (erasure)."""
    connection.execute(sa.delete(fact_validations).where(fact_validations.c.family_account == family_account))
    connection.execute(sa.select(sa.func.lo_unlink(documents.c.content_oid))
                       .where(documents.c.family_account == family_account))
    return connection.execute(sa.delete(documents).where(documents.c.family_account == family_account)).rowcount


def delete_documents_of_purged_children(connection: Connection) -> int:
    """Retention: the documents sent for a child's allowance go once the child's record is purged (a removed
    child, 90 days on), unless a validation still rests on one."""
    gone = sa.and_(documents.c.child_id.is_not(None),
                   ~sa.exists().where(children.c.child_id == documents.c.child_id),
                   ~sa.exists().where(fact_validations.c.document_id == documents.c.document_id))
    connection.execute(sa.select(sa.func.lo_unlink(documents.c.content_oid)).where(gone))
    return connection.execute(sa.delete(documents).where(gone)).rowcount


def _document(row: Any) -> Document:
    return Document(**row)
