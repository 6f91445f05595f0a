"""The events registrations writes to its outbox with the ledger's changes (`application.submitted` is
written by intake itself, in wire form: `usecases.intake.SubmittedEvents`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from shared.events import Event, event_from_wire_checked_once, make_event

SOURCE = "/guichet/registrations"


def received_event(data: dict[str, Any], partition: int, arrival_position: int, status: str,
                   reason: str | None, checked: set[str] | None = None) -> Event:
    """`application.received`: the submission as the ledger recorded it, with its arrival position. With `checked`,
    one of a batch's (`event_from_wire_checked_once`), else checked against its contract."""
    return event_from_wire_checked_once(
        "application.received", set() if checked is None else checked, source=SOURCE,
        subject=f"applications/{data['application_id']}",
        data={**data, "arrival_position": arrival_position, "intake_partition": partition, "status": status,
              "reason": reason})


def agent_fields(agent_reason: str | None) -> dict[str, Any]:
    """What an event adds when an agent acted for the family (its message says so, with the reason); nothing
    otherwise, so a family's own answers keep their former form."""
    return {} if agent_reason is None else {"acted_by_agent": True, "reason": agent_reason}


def withdrawn_event(application_id: UUID, campaign_id: UUID, family_account: str, previous_status: str,
                    at: datetime, agent_reason: str | None = None, *, late_fee_waived: bool = False) -> Event:
    return make_event("application.withdrawn", source=SOURCE, subject=f"applications/{application_id}", data={
        "application_id": application_id, "campaign_id": campaign_id, "family_account": family_account,
        "previous_status": previous_status, "at": at, **agent_fields(agent_reason),
        **({"late_fee_waived": True} if late_fee_waived else {})})


def offer_answered_event(accepted: bool, application_id: UUID, campaign_id: UUID, family_account: str,
                         offer_id: UUID | None, at: datetime, agent_reason: str | None = None) -> Event:
    """`offer.accepted` or `offer.declined`."""
    return make_event("offer.accepted" if accepted else "offer.declined", source=SOURCE,
                      subject=f"applications/{application_id}", data={
                          "application_id": application_id, "campaign_id": campaign_id,
                          "family_account": family_account, "offer_id": offer_id, "at": at,
                          **agent_fields(agent_reason)})

