"""Places given per offer, from allocation's `offer.places_given`: what the public listing's
"places remaining" and the managers' capacity guard read.

The topic carries every allocation event (a draw: 100,000 `allocation.decided`); records of other
types are skipped by their `ce_type` header, unparsed. Each announcement carries the offer's count
and an increasing revision: the update keeps the highest revision, so a redelivered or late
announcement never takes the count back."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from services.campaigns.store import repository
from shared.events import parse_event

PLACES_GIVEN = "offer.places_given"


def handle_allocation_record(engine: Engine, record: Any) -> None:
    event_type = dict(record.headers or ()).get("ce_type")
    if event_type is not None and event_type != PLACES_GIVEN.encode():
        return
    event = parse_event(record.value)
    if event.type == PLACES_GIVEN:
        record_places_given(engine, event.data)


def record_places_given(engine: Engine, data: Mapping[str, Any]) -> bool:
    """True when the count was newer than the one kept."""
    with engine.begin() as connection:
        return repository.record_places_given(connection, str(data["campaign_id"]), str(data["offer_id"]),
                                              data["places_given"], data["revision"])
