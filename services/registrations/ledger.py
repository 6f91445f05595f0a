"""The application ledger: written by the intake consumer, changed by parents and decisions.

Every change is one transaction with its transition row and its outbox event, and applying
the same Kafka record twice changes nothing (the application id is the ledger's key).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable
from uuid import UUID

from sqlalchemy import Connection, Engine, func, select, tuple_

from services.registrations.domain.applications import (ACTIVE_STATUSES, ApplicationStatus, check_transition)
from services.registrations.tables import application_transitions, applications, outbox
from shared.contracts.applications import ApplicationSubmittedSchema
from shared.events import make_event, parse_event
from shared.outbox import record_event

SOURCE = "/guichet/registrations"


@dataclass(frozen=True)
class IntakeRecord:
    """One `application.submitted` as read from the intake log."""
    data: dict[str, Any]
    partition: int
    offset: int

    @classmethod
    def from_kafka(cls, record: Any) -> "IntakeRecord":
        return cls(parse_event(record.value).data, record.partition, record.offset)


def record_intake(engine: Engine, records: Iterable[IntakeRecord]) -> list[UUID]:
    """Write a batch of submissions to the ledger; returns the ids newly recorded."""
    records = list(records)
    if not records:
        return []
    with engine.begin() as connection:
        known = _known_ids(connection, [UUID(r.data["application_id"]) for r in records])
        active = _active_applications(connection, {(UUID(r.data["campaign_id"]), UUID(r.data["child"]["child_id"]))
                                                   for r in records})
        recorded: list[UUID] = []
        for record in records:
            application_id = UUID(record.data["application_id"])
            if application_id in known:
                continue  # redelivered: already in the ledger
            known.add(application_id)
            pair = (UUID(record.data["campaign_id"]), UUID(record.data["child"]["child_id"]))
            first = active.get(pair)
            if first is None:
                active[pair] = application_id
                status, reason = ApplicationStatus.RECEIVED, None
            else:
                # Only possible if Redis lost its guard between two submissions: the ledger still says no.
                status, reason = ApplicationStatus.REJECTED, f"duplicate-application:{first}"
            _insert(connection, record, status, reason)
            recorded.append(application_id)
        return recorded


def _known_ids(connection: Connection, ids: list[UUID]) -> set[UUID]:
    rows = connection.execute(select(applications.c.application_id).where(applications.c.application_id.in_(ids)))
    return {row.application_id for row in rows}


def _active_applications(connection: Connection, pairs: set[tuple[UUID, UUID]]) -> dict[tuple[UUID, UUID], UUID]:
    rows = connection.execute(
        select(applications.c.campaign_id, applications.c.child_id, applications.c.application_id)
        .where(tuple_(applications.c.campaign_id, applications.c.child_id).in_(list(pairs)))
        .where(applications.c.status.in_([str(s) for s in ACTIVE_STATUSES])))
    return {(row.campaign_id, row.child_id): row.application_id for row in rows}


def _insert(connection: Connection, record: IntakeRecord, status: ApplicationStatus, reason: str | None) -> None:
    data = record.data
    application_id = UUID(data["application_id"])
    connection.execute(applications.insert().values(
        application_id=application_id, campaign_id=UUID(data["campaign_id"]),
        child_id=UUID(data["child"]["child_id"]), family_account=data["family_account"],
        choices=[UUID(c) for c in data["choices"]],
        keep_with_applications=[UUID(a) for a in data["keep_with_applications"]],
        sworn_statement=data["sworn_statement"], child=data["child"], household=data["household"],
        hold=data["hold"], status=str(status), reason=reason, submitted_at=datetime.fromisoformat(data["submitted_at"]),
        intake_partition=record.partition, arrival_position=record.offset))
    connection.execute(application_transitions.insert().values(
        application_id=application_id, from_status=None, to_status=str(status), reason=reason))
    event = make_event("application.received", source=SOURCE, subject=f"applications/{application_id}", data={
        **_loadable(data), "arrival_position": record.offset, "intake_partition": record.partition,
        "status": str(status), "reason": reason})
    record_event(connection, outbox, event, key=data["campaign_id"])


def _loadable(data: dict[str, Any]) -> dict[str, Any]:
    """Wire data back to Python values, so make_event can check and dump it again."""
    return ApplicationSubmittedSchema().load(data)


class ApplicationNotFound(Exception):
    pass


def change_status(connection: Connection, application_id: UUID, wanted: ApplicationStatus, *,
                  family_account: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """Move one application along the state machine (row locked); returns the row as it was."""
    query = select(applications).where(applications.c.application_id == application_id).with_for_update()
    if family_account is not None:
        query = query.where(applications.c.family_account == family_account)
    row = connection.execute(query).mappings().first()
    if row is None:
        raise ApplicationNotFound(application_id)
    check_transition(ApplicationStatus(row["status"]), wanted)
    connection.execute(applications.update().where(applications.c.application_id == application_id)
                       .values(status=str(wanted), reason=reason, updated_at=func.now()))
    connection.execute(application_transitions.insert().values(
        application_id=application_id, from_status=row["status"], to_status=str(wanted), reason=reason))
    return dict(row)


def withdraw(engine: Engine, family_account: str, application_id: UUID, now: datetime) -> dict[str, Any]:
    with engine.begin() as connection:
        before = change_status(connection, application_id, ApplicationStatus.WITHDRAWN, family_account=family_account,
                               reason="withdrawn by the parent")
        event = make_event("application.withdrawn", source=SOURCE, subject=f"applications/{application_id}", data={
            "application_id": application_id, "campaign_id": before["campaign_id"], "family_account": family_account,
            "previous_status": before["status"], "at": now})
        record_event(connection, outbox, event, key=str(before["campaign_id"]))
        return before


def application_view(engine: Engine, application_id: UUID, family_account: str | None = None) -> dict[str, Any] | None:
    with engine.connect() as connection:
        query = select(applications).where(applications.c.application_id == application_id)
        if family_account is not None:
            query = query.where(applications.c.family_account == family_account)
        row = connection.execute(query).mappings().first()
        if row is None:
            return None
        history = connection.execute(
            select(application_transitions.c.from_status, application_transitions.c.to_status,
                   application_transitions.c.reason, application_transitions.c.at)
            .where(application_transitions.c.application_id == application_id)
            .order_by(application_transitions.c.transition_id)).mappings().all()
    return {**row, "history": [dict(h) for h in history]}


def family_applications(engine: Engine, family_account: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(applications).where(applications.c.family_account == family_account)
                                  .order_by(applications.c.submitted_at.desc())).mappings().all()
    return [dict(r) for r in rows]
