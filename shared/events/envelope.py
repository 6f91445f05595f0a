"""CloudEvents 1.0 envelope: id, type, source, time, subject, data, plus `schemaversion`."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any

import marshmallow as ma

from shared.clock import utc_now
from shared.events.registry import contract_for

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"


class EventError(ValueError):
    """An event that does not match its contract; consumers send it to the dead-letter topic."""


@dataclass(frozen=True)
class Event:
    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=utc_now)
    schemaversion: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "time": self.time.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "schemaversion": self.schemaversion,
            "data": self.data,
        }


class _EnvelopeSchema(ma.Schema):
    specversion = ma.fields.String(required=True, validate=ma.validate.Equal(SPEC_VERSION))
    id = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    type = ma.fields.String(required=True)
    source = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    time = ma.fields.AwareDateTime(required=True)
    datacontenttype = ma.fields.String(load_default="application/json")
    schemaversion = ma.fields.Integer(required=True)
    data = ma.fields.Dict(required=True)


_ENVELOPE_SCHEMA = _EnvelopeSchema()


@cache
def _data_schema(event_type: str, unknown: str = ma.RAISE) -> ma.Schema:
    """One instance per contract, built once per process: building a contract's schema cost more than checking
    a record with it (`application.received`: 0.54 ms built and checked, 0.12 ms checked). A marshmallow schema
    keeps no state of a call on the instance, so threads share it."""
    return contract_for(event_type).schema(unknown=unknown)


def make_event(event_type: str, *, source: str, subject: str, data: Mapping[str, Any], **envelope: Any) -> Event:
    """Build an event whose data is checked against its contract before it can reach the outbox."""
    contract = contract_for(event_type)
    schema = _data_schema(event_type)
    wire_data = schema.dump(data)
    errors = schema.validate(wire_data)
    if errors:
        raise EventError(f"{event_type} data does not match its contract: {errors}")
    return Event(type=event_type, source=source, subject=subject, data=wire_data,
                 schemaversion=contract.version, **envelope)


def event_from_wire(event_type: str, *, source: str, subject: str, data: Mapping[str, Any], **envelope: Any) -> Event:
    """Like make_event, for data already in wire form (JSON types), e.g. derived from a parsed event:
    one validation pass instead of a load, a dump and a validation."""
    contract = contract_for(event_type)
    errors = _data_schema(event_type).validate(data)
    if errors:
        raise EventError(f"{event_type} data does not match its contract: {errors}")
    return Event(type=event_type, source=source, subject=subject, data=dict(data), schemaversion=contract.version,
                 **envelope)


def event_from_wire_checked_once(event_type: str, checked: set[str], *, source: str, subject: str,
                                 data: Mapping[str, Any], **envelope: Any) -> Event:
    """`event_from_wire` for a batch of events one function derives alike from records read with
    `parse_event_checked_once`: the first of each type (kept in `checked`) is checked against its contract in
    full, so a contract that moved away from the code fails the batch; the others are built as they are."""
    if event_type not in checked:
        event = event_from_wire(event_type, source=source, subject=subject, data=data, **envelope)
        checked.add(event_type)
        return event
    return Event(type=event_type, source=source, subject=subject, data=dict(data),
                 schemaversion=contract_for(event_type).version, **envelope)


def parse_event(raw: Mapping[str, Any]) -> Event:
    """Check the envelope and the data against the contract; data comes back as JSON types."""
    try:
        envelope = _ENVELOPE_SCHEMA.load(raw, unknown=ma.INCLUDE)
    except ma.ValidationError as exc:
        raise EventError(f"not a Guichet CloudEvent: {exc.messages}") from exc
    try:
        contract = contract_for(envelope["type"])
    except LookupError as exc:
        raise EventError(str(exc)) from exc
    if envelope["schemaversion"] > contract.version:
        raise EventError(f"{envelope['type']} schema version {envelope['schemaversion']} is newer than this consumer knows")
    # Fields added later within a version are tolerated: additive changes keep the schema version.
    try:
        _data_schema(envelope["type"], ma.INCLUDE).load(envelope["data"])
    except ma.ValidationError as exc:
        raise EventError(f"{envelope['type']} data does not match its contract: {exc.messages}") from exc
    return Event(type=envelope["type"], source=envelope["source"], subject=envelope["subject"],
                 data=dict(envelope["data"]), id=envelope["id"], time=envelope["time"],
                 schemaversion=envelope["schemaversion"])


def parse_event_checked_once(raw: Mapping[str, Any], checked: set[str]) -> Event:
    """`parse_event` for a consumer's batch of one producer's events: checking every record's data against its
    contract costs about a millisecond each, more than applying most of them. The first record of each type (kept in
    `checked`) is checked in full, the others by their envelope's type, version, id and time. A batch that then
    fails to apply is taken again record by record, each through `parse_event`."""
    event_type = raw.get("type") if isinstance(raw, Mapping) else None
    if event_type in checked and raw.get("schemaversion") == contract_for(event_type).version \
            and isinstance(raw.get("data"), dict) and isinstance(raw.get("id"), str) and raw["id"] \
            and isinstance(raw.get("time"), str):
        try:
            at = datetime.fromisoformat(raw["time"])
        except ValueError:
            at = None  # refused in full below
        if at is not None and at.tzinfo is not None:
            return Event(type=event_type, source=raw.get("source", ""), subject=raw.get("subject", ""),
                         data=dict(raw["data"]), id=raw["id"], time=at, schemaversion=raw["schemaversion"])
    event = parse_event(raw)
    checked.add(event.type)
    return event
