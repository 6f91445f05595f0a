"""The allocation worker's periodic jobs: the automatic draw, the expiry of places not accepted in time,
and the announcement of each offer's places given."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from services.allocation.usecases.draws import publish_due_draws
from services.allocation.usecases.expiry import expire_overdue
from services.allocation.usecases.places_given import announce_changed_counts
from shared.clock import Clock
from shared.worker import PeriodicLoop


class DrawScheduler(PeriodicLoop):
    """Draws each lottery campaign as soon as it is closed and registrations announced that intake has
    drained past the close (`application.intake_closed`: every application acknowledged before the close
    is stored here). Without that announcement, it draws `delay` after the close at the latest; a manager
    may publish earlier through the API."""

    def __init__(self, engine: Engine, clock: Clock, delay: timedelta, interval_seconds: float = 0.25, *,
                 when_intake_drained: bool = True):
        super().__init__(interval_seconds)
        self.engine = engine
        self.clock = clock
        self.delay = delay
        self.when_intake_drained = when_intake_drained

    def tick(self) -> None:
        publish_due_draws(self.engine, self.clock, self.delay, when_intake_drained=self.when_intake_drained)


class ExpiryLoop(PeriodicLoop):
    """Expires places whose deadline passed more than `grace` ago; each goes to the waitlist at once."""

    def __init__(self, engine: Engine, clock: Clock, grace: timedelta, interval_seconds: float = 1.0):
        super().__init__(interval_seconds)
        self.engine = engine
        self.clock = clock
        self.grace = grace

    def tick(self) -> None:
        expire_overdue(self.engine, self.clock(), self.grace)


class PlacesAnnouncer(PeriodicLoop):
    """Announces the offers whose count of given places changed (`offer.places_given`)."""

    def __init__(self, engine: Engine, clock: Clock, interval_seconds: float = 2.0):
        super().__init__(interval_seconds)
        self.engine = engine
        self.clock = clock

    def tick(self) -> None:
        with self.engine.begin() as connection:
            announce_changed_counts(connection, self.clock())
