"""Erasure of a family (`family.erased`, docs/privacy.md): allocation keeps its copies of the family's
applications (decisions, places and waitlists refer to them; the published draw stays verifiable) under the
pseudonym registrations chose, without the child's and the household's documents; and deletes the published
events of its outbox that named the family. Redelivered, it finds nothing more to change."""
from __future__ import annotations

from sqlalchemy import Connection, cast, delete, update
from sqlalchemy.dialects.postgresql import JSONB

from services.allocation.store.tables import applications, outbox

ERASED = {"erased": True}


def erase_family(connection: Connection, family_account: str, pseudonym: str) -> None:
    connection.execute(update(applications).where(applications.c.family_account == family_account).values(
        family_account=pseudonym, child=cast(ERASED, JSONB), household=cast(ERASED, JSONB)))
    connection.execute(delete(outbox).where(outbox.c.published_at.is_not(None),
                                            outbox.c.envelope["data"]["family_account"].astext == family_account))
