"""Four eyes on a draw's publication (docs/allocation-service.md#four-eyes): one request per campaign, filed by
a manager and approved by another, the approval naming the run it published. Functions take the caller's
connection: the approval is written in the draw's own transaction, with its events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, Connection, DateTime, String, Table, Text, Uuid, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from services.allocation.store.tables import metadata
from shared.audit import Actor

publication_requests = Table(
    "publication_requests", metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("requested_by", Text, nullable=False),
    Column("requested_role", String(40), nullable=False),
    Column("requested_by_name", Text),  # as the provider names the manager, for the other managers' page
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", Text),
    Column("approved_at", DateTime(timezone=True)),
    Column("run_id", Uuid),  # the published run, once approved
)


@dataclass(frozen=True)
class PublicationRequest:
    campaign_id: UUID
    requested_by: str
    requested_role: str
    requested_by_name: str | None
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    run_id: UUID | None

    @property
    def pending(self) -> bool:
        return self.approved_at is None


def publication_request(connection: Connection, campaign_id: UUID) -> PublicationRequest | None:
    row = connection.execute(select(publication_requests)
                             .where(publication_requests.c.campaign_id == campaign_id)).mappings().first()
    return None if row is None else PublicationRequest(**row)


def filed_request(connection: Connection, campaign_id: UUID) -> PublicationRequest:
    """The request the caller just filed or found, in its transaction."""
    found = publication_request(connection, campaign_id)
    if found is None:
        raise LookupError(f"no publication request for campaign {campaign_id}")
    return found


def file_request(connection: Connection, campaign_id: UUID, actor: Actor, name: str | None, now: datetime) -> bool:
    """True when this call filed it; False when a request (pending or approved) was already there."""
    filed = connection.execute(insert(publication_requests).values(
        campaign_id=campaign_id, requested_by=actor.subject, requested_role=actor.role, requested_by_name=name,
        requested_at=now)
        .on_conflict_do_nothing(index_elements=["campaign_id"]).returning(publication_requests.c.campaign_id)).first()
    return filed is not None


def withdraw_request(connection: Connection, campaign_id: UUID) -> PublicationRequest | None:
    """Remove the pending request; the one removed, or None when none was pending."""
    row = connection.execute(delete(publication_requests)
                             .where(publication_requests.c.campaign_id == campaign_id,
                                    publication_requests.c.approved_at.is_(None))
                             .returning(*publication_requests.c)).mappings().first()
    return None if row is None else PublicationRequest(**row)


def purge_requests(connection: Connection, campaign_ids: list[UUID]) -> int:
    """Retention: these campaigns' requests (who asked, who approved: managers' names), gone with the draws' audit
    chains that record the same; how many went."""
    if not campaign_ids:
        return 0
    return connection.execute(delete(publication_requests)
                              .where(publication_requests.c.campaign_id.in_(campaign_ids))).rowcount


def mark_approved(connection: Connection, campaign_id: UUID, approver: Actor, now: datetime, run_id: UUID) -> None:
    connection.execute(update(publication_requests).where(publication_requests.c.campaign_id == campaign_id)
                       .values(approved_by=approver.subject, approved_at=now, run_id=run_id))
