"""Application factory of the registrations service."""
from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import Flask
from sqlalchemy import Engine

from services.registrations.admission import Admission
from services.registrations.api import blp as applications_blueprint
from services.registrations.campaign_directory import CampaignDirectory
from services.registrations.household_api import household_blueprint
from services.registrations.intake import HouseholdSource, Intake
from services.registrations.intake_guard import IntakeGuard
from shared.config import Settings
from shared.idempotency import IdempotencyStore
from shared.runtime import Runtime
from shared.web import create_service_app

TITLE = "Guichet — registrations"
DESCRIPTION = ("Parents manage their household and submit applications during a campaign's window; intake is "
               "acknowledged only once Kafka holds the application.")


@dataclass
class RegistrationsContext:
    engine: Engine
    redis: redis.Redis
    intake: Intake
    guard: IntakeGuard
    idempotency: IdempotencyStore
    admission: Admission


def create_app(settings: Settings | None = None, households: HouseholdSource | None = None) -> Flask:
    settings = settings or Settings.from_env("registrations")
    runtime = Runtime(settings)
    guard = IntakeGuard(runtime.redis, rate_limit=settings.intake_per_account_per_minute)
    if households is None:
        from services.registrations.household_cache import HouseholdReader
        households = HouseholdReader(runtime.engine, runtime.redis)
    intake = Intake(CampaignDirectory(runtime.engine, runtime.redis), households, guard, lambda: runtime.request_producer,
                    runtime.redis)
    app = create_service_app(settings, title=TITLE, description=DESCRIPTION, blueprints=[applications_blueprint, household_blueprint],
                             readiness=runtime.readiness_checks(),
                             # Intake reads households and campaign terms from Redis and writes to Kafka: a
                             # PostgreSQL failover must not take it out of the load balancer at the opening.
                             serving_without={"database"})
    app.extensions["guichet.runtime"] = runtime
    app.extensions["registrations"] = RegistrationsContext(runtime.engine, runtime.redis, intake, guard,
                                                           IdempotencyStore(runtime.redis),
                                                           Admission(runtime.redis, settings.intake_admissions_per_second,
                                                                     settings.intake_per_ip_per_minute))
    return app
