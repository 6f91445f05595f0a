"""Event envelope (CloudEvents 1.0, JSON structured mode) and the catalogue of event contracts."""
from shared.events.envelope import (
    Event,
    EventError,
    event_from_wire,
    event_from_wire_checked_once,
    make_event,
    parse_event,
    parse_event_checked_once,
)
from shared.events.registry import EventContract, all_contracts, contract_for, register

__all__ = [
    "Event", "EventError", "event_from_wire", "event_from_wire_checked_once", "make_event", "parse_event",
    "parse_event_checked_once",
    "EventContract", "all_contracts", "contract_for", "register",
]
