"""Tell allocation when intake has drained past a campaign's close (`application.intake_closed`), so its
draw starts then rather than after a fixed wait (domain.intake_drain says when).

The announcement goes through the outbox like every `application.received`, keyed by campaign id: it is
written after the campaign's last one, so allocation, which reads the topic in order, has stored every
application when it reads it. One transaction claims it in the inbox (an id derived from the campaign and
its close) with its outbox row: announced once, across restarts and several workers."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine, select

from services.registrations.domain.intake_drain import drained, ready_to_note_target
from services.registrations.store.campaign_directory import closed_drawn_campaigns
from services.registrations.store.tables import inbox, outbox
from shared.clock import Clock
from shared.events import Event, make_event
from shared.outbox import claim_event, record_event

CONSUMER = "registrations.intake-drained"
NAMESPACE = uuid.UUID("3b8e2f61-7c4d-4a9e-b1f2-6d5c4e3a2b10")
SOURCE = "/guichet/registrations"

# (end offset, committed offset) per partition of the intake log, for the ledger's consumer group.
Positions = Callable[[], tuple[Mapping[int, int], Mapping[int, int]]]


def announcement_id(campaign_id: UUID, closed_at: datetime) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{campaign_id}:{closed_at.isoformat()}"))


class IntakeDrain:
    def __init__(self, engine: Engine, clock: Clock, positions: Positions, grace: timedelta):
        self.engine = engine
        self.clock = clock
        self.positions = positions
        self.grace = grace
        # The ends noted after each close; a restarted worker notes them again, later: only more cautious.
        self.targets: dict[str, Mapping[int, int]] = {}

    def announce_drained(self) -> list[UUID]:
        """Announce every campaign whose intake has drained past its close; returns them."""
        with self.engine.connect() as connection:
            announced = set(connection.execute(select(inbox.c.event_id).where(inbox.c.consumer == CONSUMER)).scalars())
            pending = [(campaign_id, closed_at) for campaign_id, closed_at in closed_drawn_campaigns(connection)
                       if announcement_id(campaign_id, closed_at) not in announced]
        now = self.clock()
        due = [(campaign_id, closed_at) for campaign_id, closed_at in pending
               if ready_to_note_target(closed_at, now, self.grace)]
        if not due:
            return []
        ends, committed = self.positions()
        done = []
        for campaign_id, closed_at in due:
            target = self.targets.setdefault(announcement_id(campaign_id, closed_at), dict(ends))
            if drained(target, committed) and self._announce(campaign_id, closed_at):
                done.append(campaign_id)
        return done

    def _announce(self, campaign_id: UUID, closed_at: datetime) -> bool:
        event = intake_closed(campaign_id, closed_at, self.clock())
        with self.engine.begin() as connection:
            if not claim_event(connection, inbox, CONSUMER, event.id, event.type):
                return False  # another worker announced it
            record_event(connection, outbox, event, key=str(campaign_id))
        self.targets.pop(event.id, None)
        return True


def intake_closed(campaign_id: UUID, closed_at: datetime, now: datetime) -> Event:
    return make_event("application.intake_closed", source=SOURCE, subject=f"campaigns/{campaign_id}", time=now,
                      id=announcement_id(campaign_id, closed_at),
                      data={"campaign_id": campaign_id, "closed_at": closed_at, "drained_at": now})
