"""The ledger's transitions the worker makes: the intake log written into the ledger, and allocation's
decisions followed there. Applying the same Kafka record twice changes nothing (the application id is
the ledger's key); each change is one transaction with its transition row and its outbox event."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine

from services.registrations.domain.applications import ApplicationStatus, TransitionRefused, check_transition
from services.registrations.store.audit import family_change, family_itself, record_family_changes
from services.registrations.store.events import received_event
from services.registrations.store.ledger import (
    active_applications,
    insert_applications,
    intake_transition,
    known_ids,
    ledger_row,
    locked,
    locked_rows,
    submitted_by,
    transition,
    write_transitions,
)
from services.registrations.store.tables import outbox
from shared.audit import PendingEntry
from shared.clock import utc_now
from shared.events import parse_event, parse_event_checked_once
from shared.outbox import record_events


@dataclass(frozen=True)
class IntakeRecord:
    """One `application.submitted` as read from the intake log."""
    data: dict[str, Any]
    partition: int
    offset: int

    @classmethod
    def from_kafka(cls, record: Any, checked: set[str] | None = None) -> IntakeRecord:
        """The record's submission; with `checked`, a batch's (`parse_event_checked_once`: the first checked
        against its contract in full, the others by their envelope), else checked in full."""
        event = parse_event(record.value) if checked is None else parse_event_checked_once(record.value, checked)
        return cls(event.data, record.partition, record.offset)

    @property
    def arrival_position(self) -> int:
        """The number intake took in Redis with the hold: one campaign's records travel in several partitions, so
        their offsets say nothing of the order between them. A record written before intake took numbers (one
        campaign, one partition then) keeps its offset."""
        number = self.data.get("arrival_number")
        return self.offset if number is None else number


def record_intake(engine: Engine, records: Iterable[IntakeRecord], now: datetime | None = None) -> list[UUID]:
    """Write a batch of submissions to the ledger, one statement per table; returns the ids newly recorded.
    Each one newly recorded leaves one entry on its family's audit chain, in the same transaction. Each record's
    ids are parsed once, into its row, and read from there (a batch parsed each several times, a tenth of the
    writer's CPU)."""
    now = now or utc_now()
    received = [(record, ledger_row(record.data, record.partition, record.arrival_position,
                                    ApplicationStatus.RECEIVED, None)) for record in records]
    if not received:
        return []
    with engine.begin() as connection:
        known = known_ids(connection, [row["application_id"] for _, row in received])
        active = active_applications(connection, {(row["campaign_id"], row["child_id"]) for _, row in received})
        written, transitions, events, checked = [], [], [], set()
        for record, row in received:
            application_id = row["application_id"]
            if application_id in known:
                continue  # redelivered: already in the ledger
            known.add(application_id)
            pair = (row["campaign_id"], row["child_id"])
            first = active.get(pair)
            if first is None:
                active[pair] = application_id
            else:
                # Only possible if Redis lost its guard between two submissions: the ledger still says no.
                row["status"], row["reason"] = str(ApplicationStatus.REJECTED), f"duplicate-application:{first}"
            written.append((record, row))
            transitions.append(intake_transition(record.data, application_id, row["status"], row["reason"]))
            events.append((received_event(record.data, record.partition, record.arrival_position, row["status"],
                                          row["reason"], checked), record.data["campaign_id"]))
        if written:
            insert_applications(connection, [row for _, row in written], transitions)
            record_events(connection, outbox, events)
            record_family_changes(connection, [intake_entry(record, row, now) for record, row in written])
        return [row["application_id"] for _, row in written]


# What an application's first audit entry says of it (the child's and household's facts it copied are the
# household's, on the same chain already).
INTAKE_AUDITED = ("campaign_id", "child_id", "choices", "keep_with_applications", "sworn_statement", "status",
                  "reason", "submitted_at", "intake_partition", "arrival_position")


def intake_entry(record: IntakeRecord, row: dict[str, Any], now: datetime) -> PendingEntry:
    """The ledger writing a submission is the worker's action on the family's behalf: the family applied (or the
    agent who applied for it, with its reason), through the intake record."""
    agent = submitted_by(record.data)
    return family_change(agent or family_itself(record.data["family_account"]), "application.submit", "application",
                         str(row["application_id"]), None, {name: row[name] for name in INTAKE_AUDITED}, now,
                         reason=record.data.get("agent_reason") if agent else None,
                         family_account=record.data["family_account"])


def apply_decision(connection: Connection, event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Follow one of allocation's events in the ledger. Returns the row as it was, or None when the event no
    longer applies (the parent withdrew meanwhile): allocation learns of the withdrawal from its own event."""
    if event_type not in FOLLOWED:
        return None
    row = locked(connection, UUID(str(data["application_id"])), None)
    move = _decided_move(event_type, data, row)
    if move is None:
        return None
    wanted, reason, placement = move
    transition(connection, row, wanted, reason, **placement)
    return row


@dataclass(frozen=True)
class Applied:
    """One of allocation's events the ledger followed: the row before and after it."""
    event_type: str
    data: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]


def apply_decisions(connection: Connection, events: list[tuple[str, str, dict[str, Any]]],
                    claim: Callable[[list[tuple[str, str]]], set[str]]) -> list[Applied]:
    """A batch of allocation's events — (event id, type, data), in partition order — in the caller's one
    transaction, in a handful of statements whatever its size: claim them (`claim` returns the ids seen
    for the first time: a redelivered event changes nothing), lock their rows, move each along the state
    machine as `apply_decision` would, write every change and transition at once."""
    fresh = claim([(event_id, event_type) for event_id, event_type, _ in events])
    todo, seen = [], set()
    for event_id, event_type, data in events:
        if event_id in fresh and event_id not in seen and event_type in FOLLOWED:
            seen.add(event_id)
            todo.append((event_type, data, UUID(str(data["application_id"]))))
    current = locked_rows(connection, [application_id for _, _, application_id in todo])
    applied, changed, transitions = [], [], []
    for event_type, data, application_id in todo:
        row = current.get(application_id)
        if row is None:
            continue  # not in this ledger (never happens: allocation decides what the ledger announced)
        move = _decided_move(event_type, data, row)
        if move is None:
            continue
        wanted, reason, placement = move
        after = {**row, **placement, "status": str(wanted), "reason": reason}
        current[row["application_id"]] = after
        applied.append(Applied(event_type, data, row, after))
        changed.append(after)
        transitions.append({"application_id": row["application_id"], "from_status": row["status"],
                            "to_status": str(wanted), "reason": reason})
    write_transitions(connection, changed, transitions)
    return applied


FOLLOWED = frozenset({"allocation.decided", "waitlist.promoted", "offer.expired"})


def _decided_move(event_type: str, data: dict[str, Any], row: dict[str, Any]
                  ) -> tuple[ApplicationStatus, str | None, dict[str, Any]] | None:
    """Where one of allocation's events moves a row, or None when it no longer applies."""
    if event_type == "allocation.decided":
        wanted = ApplicationStatus(data["outcome"])
        placement: dict[str, Any] = {"decision": _json_safe(data)}
        if wanted == ApplicationStatus.ALLOCATED:
            placement.update(_placement(data))
        reason = ", ".join(data.get("reasons") or []) or None
        if wanted == row["status"]:
            return None  # a republished decision
    elif event_type == "waitlist.promoted":
        wanted, reason, placement = ApplicationStatus.ALLOCATED, "a place was freed on the waitlist", _placement(data)
    else:
        wanted, reason, placement = ApplicationStatus.EXPIRED, "the offered place was not accepted in time", {}
    try:
        check_transition(ApplicationStatus(row["status"]), wanted)
    except TransitionRefused:
        return None
    return wanted, reason, placement


def _placement(data: dict[str, Any]) -> dict[str, Any]:
    return {"placed_offer_id": UUID(str(data["offer_id"])),
            "offer_expires_at": datetime.fromisoformat(str(data["offer_expires_at"]))}


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    return {key: (str(value) if isinstance(value, (UUID, datetime)) else value) for key, value in data.items()}
