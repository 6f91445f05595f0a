"""The notifications worker: `python -m services.notifications.worker`.

Turns campaign, application, allocation and registration events into notifications, delivers
them (inbox, letter, email) with retries, and queues the reminders of offers about to expire.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Callable

from services.notifications.config import NotificationsConfig
from services.notifications.contacts import HouseholdContacts, ServiceToken
from services.notifications.courier import DELIVERY_RETRY, Contacts, Courier, Mailer
from services.notifications.handlers import handle_record
from services.notifications.mailer import SmtpMailer
from shared.worker import PeriodicLoop
from services.notifications.reminders import remind_due
from shared.config import Settings
from shared.kafka import ConsumerLoop, RetryPolicy, ensure_topics
from shared.observability import configure_logging
from shared.runtime import Runtime
from shared.topics import ALLOCATION_EVENTS, APPLICATION_EVENTS, CAMPAIGN_EVENTS, BILLING_FEED
from shared.worker import Loop, run_loops

CONSUMED_TOPICS = [CAMPAIGN_EVENTS, APPLICATION_EVENTS, ALLOCATION_EVENTS, BILLING_FEED]


def consumer_group(settings: Settings) -> str:
    return f"{settings.kafka_topic_prefix}notifications"


def build_loops(runtime: Runtime, contacts: Contacts, mailer: Mailer, portal_url: str,
                clock: Callable[[], datetime] = partial(datetime.now, UTC), retry: RetryPolicy = DELIVERY_RETRY,
                interval_seconds: float = 1.0) -> list[Loop]:
    settings, engine = runtime.settings, runtime.engine
    courier = Courier(engine, contacts, mailer, clock, portal_url, retry)
    return [
        ConsumerLoop(settings, consumer_group(settings), CONSUMED_TOPICS,
                     handler=partial(handle_record, engine, clock)),
        PeriodicLoop(interval_seconds, courier.deliver_due, name="courier"),
        PeriodicLoop(interval_seconds, partial(remind_due, engine, clock), name="reminders"),
    ]


def main() -> None:
    settings = Settings.from_env("notifications-worker")
    configure_logging(settings.service_name, settings.log_level)
    ensure_topics(settings)
    config = NotificationsConfig.from_settings(settings)
    contacts = HouseholdContacts(config.registrations_url, ServiceToken(settings, config.service_token_file))
    mailer = SmtpMailer.from_config(config)
    runtime = Runtime(settings)
    try:
        run_loops(build_loops(runtime, contacts, mailer, config.portal_url))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
