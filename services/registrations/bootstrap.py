"""The registrations composition root: every part a process needs, built once per process (after gunicorn
forks), for the web app and the worker alike. Views reach it with `RegistrationsComponents.current()`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import redis
from sqlalchemy import Engine

from services.registrations.domain.waiting_room import PollBudget
from services.registrations.settings import RegistrationsSettings
from services.registrations.store.admission import Admission
from services.registrations.store.campaign_directory import CampaignDirectory
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.intake_gate import IntakeGate
from services.registrations.store.intake_guard import IntakeGuard
from services.registrations.store.waiting_room import IntakeLatency, RoomStore
from services.registrations.usecases.answers import Answers
from services.registrations.usecases.households import HouseholdChanges
from services.registrations.usecases.intake import HouseholdSource, InFlight, Intake
from services.registrations.usecases.waiting_room import WaitingRooms
from shared.clock import Clock, utc_now
from shared.composition import Components
from shared.idempotency import IdempotencyStore
from shared.runtime import Runtime


@dataclass(frozen=True)
class RegistrationsComponents(Components):
    extension: ClassVar[str] = "guichet.registrations"

    settings: RegistrationsSettings
    runtime: Runtime
    clock: Clock
    engine: Engine
    redis: redis.Redis
    campaigns: CampaignDirectory
    households: HouseholdReader  # the household API's reads (Redis, Postgres on a miss)
    household_changes: HouseholdChanges
    guard: IntakeGuard
    intake: Intake
    answers: Answers
    admission: Admission
    idempotency: IdempotencyStore
    waiting_rooms: WaitingRooms


def build_components(settings: RegistrationsSettings, runtime: Runtime, clock: Clock = utc_now,
                     households: HouseholdSource | None = None) -> RegistrationsComponents:
    """`households`: where intake reads households, when a test or a benchmark gives its own source."""
    engine, client = runtime.engine, runtime.redis
    reader = HouseholdReader(engine, client)
    guard = IntakeGuard(client, rate_limit=settings.intake_per_account_per_minute)
    campaigns = CampaignDirectory(engine, client)
    admission = Admission(client, settings.intake_admissions_per_second, settings.intake_per_ip_per_minute)
    idempotency = IdempotencyStore(client)
    in_flight = InFlight(settings.intake_max_in_flight)
    return RegistrationsComponents(
        settings=settings, runtime=runtime, clock=clock, engine=engine, redis=client, campaigns=campaigns,
        households=reader, household_changes=HouseholdChanges(engine, reader, clock), guard=guard,
        intake=Intake(campaigns, households or reader, IntakeGate(client, admission, idempotency, guard),
                      lambda: runtime.request_producer, clock=clock, in_flight=in_flight),
        answers=Answers(engine, guard, clock),
        admission=admission,
        idempotency=idempotency,
        waiting_rooms=WaitingRooms(campaigns, RoomStore(client), IntakeLatency(client), clock,
                                   secret=settings.waiting_room_secret.encode() if settings.waiting_room_secret else None,
                                   token_ttl=settings.admission_token_ttl, admission_window=settings.admission_window,
                                   poll_budget=PollBudget(settings.waiting_room_polls_per_second)),
    )
