"""One marshmallow schema per event type, with the topic it travels on and an example."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma

from shared.topics import TopicSpec


@dataclass(frozen=True)
class EventContract:
    type: str
    version: int
    schema: type[ma.Schema]
    topic: TopicSpec
    description: str
    example: dict[str, Any] = field(default_factory=dict)


_CONTRACTS: dict[str, EventContract] = {}


def register(contract: EventContract) -> EventContract:
    existing = _CONTRACTS.get(contract.type)
    if existing is not None and existing != contract:
        raise ValueError(f"event type {contract.type!r} is already registered with another contract")
    _CONTRACTS[contract.type] = contract
    return contract


def contract_for(event_type: str) -> EventContract:
    _load_catalogue()
    try:
        return _CONTRACTS[event_type]
    except KeyError:
        raise LookupError(f"unknown event type {event_type!r}") from None


def all_contracts() -> list[EventContract]:
    _load_catalogue()
    return sorted(_CONTRACTS.values(), key=lambda c: c.type)


def _load_catalogue() -> None:
    # The catalogue modules register themselves on import; importing here keeps callers from
    # having to remember which module defines which event.
    import shared.contracts  # noqa: F401
