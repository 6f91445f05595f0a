"""The application ledger: written by the intake consumer, changed by parents and decisions.

Every change is one transaction with its transition row and its outbox event, and applying
the same Kafka record twice changes nothing (the application id is the ledger's key).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable
from uuid import UUID

from sqlalchemy import Connection, Engine, func, select, text, tuple_

from services.registrations.domain.applications import (ACTIVE_STATUSES, ApplicationStatus, TransitionRefused,
                                                        check_transition)
from services.registrations.tables import application_transitions, applications, outbox
from shared.events import event_from_wire, make_event, parse_event
from shared.outbox import record_event, record_events

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
    """Write a batch of submissions to the ledger, one statement per table; returns the ids newly recorded."""
    records = list(records)
    if not records:
        return []
    with engine.begin() as connection:
        known = _known_ids(connection, [UUID(r.data["application_id"]) for r in records])
        active = _active_applications(connection, {(UUID(r.data["campaign_id"]), UUID(r.data["child"]["child_id"]))
                                                   for r in records})
        rows, transitions, events = [], [], []
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
            rows.append(_ledger_row(record, status, reason))
            transitions.append({"application_id": application_id, "from_status": None, "to_status": str(status),
                                "reason": reason})
            events.append((_received_event(record, status, reason), record.data["campaign_id"]))
        if rows:
            connection.execute(applications.insert(), rows)
            connection.execute(application_transitions.insert(), transitions)
            record_events(connection, outbox, events)
        return [row["application_id"] for row in rows]


def _known_ids(connection: Connection, ids: list[UUID]) -> set[UUID]:
    rows = connection.execute(select(applications.c.application_id).where(applications.c.application_id.in_(ids)))
    return {row.application_id for row in rows}


def _active_applications(connection: Connection, pairs: set[tuple[UUID, UUID]]) -> dict[tuple[UUID, UUID], UUID]:
    rows = connection.execute(
        select(applications.c.campaign_id, applications.c.child_id, applications.c.application_id)
        .where(tuple_(applications.c.campaign_id, applications.c.child_id).in_(list(pairs)))
        .where(applications.c.status.in_([str(s) for s in ACTIVE_STATUSES])))
    return {(row.campaign_id, row.child_id): row.application_id for row in rows}


def _ledger_row(record: IntakeRecord, status: ApplicationStatus, reason: str | None) -> dict[str, Any]:
    data = record.data
    return {
        "application_id": UUID(data["application_id"]), "campaign_id": UUID(data["campaign_id"]),
        "child_id": UUID(data["child"]["child_id"]), "family_account": data["family_account"],
        "choices": [UUID(c) for c in data["choices"]],
        "keep_with_applications": [UUID(a) for a in data["keep_with_applications"]],
        "sworn_statement": data["sworn_statement"], "child": data["child"], "household": data["household"],
        "hold": data["hold"], "status": str(status), "reason": reason,
        "submitted_at": datetime.fromisoformat(data["submitted_at"]),
        "intake_partition": record.partition, "arrival_position": record.offset,
        "placed_offer_id": None, "offer_expires_at": None, "decision": None,
    }


def _received_event(record: IntakeRecord, status: ApplicationStatus, reason: str | None):
    return event_from_wire("application.received", source=SOURCE, subject=f"applications/{record.data['application_id']}",
                           data={**record.data, "arrival_position": record.offset,
                                 "intake_partition": record.partition, "status": str(status), "reason": reason})


class ApplicationNotFound(Exception):
    pass


def change_status(connection: Connection, application_id: UUID, wanted: ApplicationStatus, *,
                  family_account: str | None = None, reason: str | None = None, **placement: Any) -> dict[str, Any]:
    """Move one application along the state machine (row locked); returns the row as it was."""
    row = _locked(connection, application_id, family_account)
    _transition(connection, row, wanted, reason, **placement)
    return row


def _transition(connection: Connection, row: dict[str, Any], wanted: ApplicationStatus, reason: str | None,
                **placement: Any) -> None:
    check_transition(ApplicationStatus(row["status"]), wanted)
    connection.execute(applications.update().where(applications.c.application_id == row["application_id"])
                       .values(status=str(wanted), reason=reason, updated_at=func.now(), **placement))
    connection.execute(application_transitions.insert().values(
        application_id=row["application_id"], from_status=row["status"], to_status=str(wanted), reason=reason))


def counted_position(row: dict[str, Any]) -> tuple[UUID | None, bool]:
    """Where a first-come application counts in intake's Redis counters: (offer, holds a place there).
    (None, False) for applications that count nowhere (lottery campaigns)."""
    hold = row["hold"]
    if hold["kind"] == "none":
        return None, False
    if row["status"] in (ApplicationStatus.ALLOCATED, ApplicationStatus.CONFIRMED) and row.get("placed_offer_id"):
        return row["placed_offer_id"], True
    return UUID(str(hold["offer_id"])), hold["kind"] == "held" and row["status"] == ApplicationStatus.RECEIVED


class OfferNotOpen(Exception):
    """Accept/decline: no place is offered to this application (any more)."""

    def __init__(self, status: str, expired: bool = False):
        super().__init__("the offered place has expired" if expired else f"no place is offered (status {status})")
        self.status, self.expired = status, expired


def answer_offer(engine: Engine, family_account: str, application_id: UUID, accept: bool,
                 now: datetime) -> dict[str, Any]:
    """The parent accepts or declines the place offered, before its deadline."""
    wanted = ApplicationStatus.CONFIRMED if accept else ApplicationStatus.DECLINED
    with engine.begin() as connection:
        row = _locked(connection, application_id, family_account)
        if row["status"] != ApplicationStatus.ALLOCATED:
            raise OfferNotOpen(row["status"])
        if row["offer_expires_at"] is not None and now >= row["offer_expires_at"]:
            raise OfferNotOpen(row["status"], expired=True)
        _transition(connection, row, wanted, "accepted by the parent" if accept else "declined by the parent")
        event = make_event("offer.accepted" if accept else "offer.declined", source=SOURCE,
                           subject=f"applications/{application_id}", data={
                               "application_id": application_id, "campaign_id": row["campaign_id"],
                               "family_account": family_account, "offer_id": row["placed_offer_id"], "at": now})
        record_event(connection, outbox, event, key=str(row["campaign_id"]))
        return row


def _locked(connection: Connection, application_id: UUID, family_account: str | None) -> dict[str, Any]:
    query = select(applications).where(applications.c.application_id == application_id).with_for_update()
    if family_account is not None:
        query = query.where(applications.c.family_account == family_account)
    row = connection.execute(query).mappings().first()
    if row is None:
        raise ApplicationNotFound(application_id)
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


def intake_counters(engine: Engine, campaign_id: UUID) -> dict[str, Any]:
    """A campaign's applications received per minute and per offer (first choice and ranked at all)."""
    with engine.connect() as connection:
        minutes = connection.execute(text(
            "SELECT date_trunc('minute', submitted_at) AS minute, count(*) AS received "
            "FROM registrations.applications WHERE campaign_id = :c GROUP BY 1 ORDER BY 1"),
            {"c": campaign_id}).mappings().all()
        offers = connection.execute(text(
            "SELECT offer_id, count(*) FILTER (WHERE rank = 1) AS first_choice, count(*) AS ranked "
            "FROM registrations.applications, unnest(choices) WITH ORDINALITY AS c(offer_id, rank) "
            "WHERE campaign_id = :c GROUP BY offer_id ORDER BY first_choice DESC, ranked DESC"),
            {"c": campaign_id}).mappings().all()
    return {"campaign_id": campaign_id, "received": sum(m["received"] for m in minutes),
            "per_minute": minutes, "per_offer": offers}


def family_applications(engine: Engine, family_account: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(applications).where(applications.c.family_account == family_account)
                                  .order_by(applications.c.submitted_at.desc())).mappings().all()
    return [dict(r) for r in rows]


def apply_decision(connection: Connection, event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Follow allocation's events in the ledger. Returns the row as it was, or None when the event no longer
    applies (the parent withdrew meanwhile): allocation learns of the withdrawal from its own event."""
    application_id = UUID(str(data["application_id"]))
    row = _locked(connection, application_id, None)
    if event_type == "allocation.decided":
        wanted = ApplicationStatus(data["outcome"])
        placement = {"decision": _json_safe(data)}
        if wanted == ApplicationStatus.ALLOCATED:
            placement.update(_placement(data))
        reason = ", ".join(data.get("reasons") or []) or None
    elif event_type == "waitlist.promoted":
        wanted, reason = ApplicationStatus.ALLOCATED, "a place was freed on the waitlist"
        placement = _placement(data)
    elif event_type == "offer.expired":
        wanted, reason, placement = ApplicationStatus.EXPIRED, "the offered place was not accepted in time", {}
    else:
        return None
    if wanted == row["status"] and event_type == "allocation.decided":
        return None  # a republished decision
    try:
        _transition(connection, row, wanted, reason, **placement)
    except TransitionRefused:
        return None
    return row


def _placement(data: dict[str, Any]) -> dict[str, Any]:
    return {"placed_offer_id": UUID(str(data["offer_id"])),
            "offer_expires_at": datetime.fromisoformat(str(data["offer_expires_at"]))}


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    return {key: (str(value) if isinstance(value, (UUID, datetime)) else value) for key, value in data.items()}
