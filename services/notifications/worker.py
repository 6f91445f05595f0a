"""The notifications worker: `python -m services.notifications.worker`.

Turns campaign, application, allocation and registration events into notifications, delivers
them (inbox, letter, email) with retries, and queues the reminders of offers about to expire and of campaigns about to close.
"""
from __future__ import annotations

from functools import partial

from services.notifications.bootstrap import NotificationsComponents, build_components
from services.notifications.handlers.courier import DELIVERY_RETRY, Courier
from services.notifications.handlers.events import handle_record, handle_records
from services.notifications.handlers.reminders import remind_closing, remind_due
from services.notifications.settings import NotificationsSettings
from services.notifications.store.contacts import HouseholdContacts, ServiceToken
from services.notifications.store.mailer import SmtpMailer
from shared.clock import Clock, utc_now
from shared.config import Settings
from shared.kafka import ConsumerLoop, RetryPolicy, ensure_topics
from shared.observability import configure_logging
from shared.runtime import Runtime
from shared.topics import ALLOCATION_EVENTS, APPLICATION_EVENTS, BILLING_FEED, CAMPAIGN_EVENTS
from shared.worker import Loop, PeriodicLoop, run_loops

CONSUMED_TOPICS = [CAMPAIGN_EVENTS, APPLICATION_EVENTS, ALLOCATION_EVENTS, BILLING_FEED]


def consumer_group(settings: Settings) -> str:
    return f"{settings.kafka_topic_prefix}notifications"


def build_courier(settings: NotificationsSettings, components: NotificationsComponents,
                  retry: RetryPolicy = DELIVERY_RETRY) -> Courier:
    """The courier with its way out: the households it reads from registrations with the service's token,
    and the SMTP relay. Refuses to start without a service token or with an unreadable CA bundle, rather
    than failing every delivery later."""
    contacts = HouseholdContacts(settings.registrations_url, ServiceToken(settings, settings.service_token_file))
    return Courier(components.engine, contacts, SmtpMailer.from_settings(settings), components.clock,
                   settings.portal_url, retry, help=settings.help_channel)


def build_loops(settings: Settings, components: NotificationsComponents, courier: Courier,
                interval_seconds: float = 1.0) -> list[Loop]:
    engine, clock = components.engine, components.clock
    return [
        ConsumerLoop(settings, consumer_group(settings), CONSUMED_TOPICS,
                     handler=partial(handle_record, engine, clock), batch_handler=partial(handle_records, engine, clock)),
        PeriodicLoop(interval_seconds, courier.deliver_due, name="courier"),
        PeriodicLoop(interval_seconds, partial(remind_due, engine, clock), name="reminders"),
        PeriodicLoop(interval_seconds, partial(remind_closing, engine, clock), name="closing-reminders"),
    ]


def main(settings: NotificationsSettings | None = None, *, clock: Clock = utc_now) -> None:
    settings = settings or NotificationsSettings.from_env("notifications-worker")
    configure_logging(settings.service_name, settings.log_level)
    ensure_topics(settings)
    runtime = Runtime(settings)
    try:
        components = build_components(settings, runtime, clock)
        run_loops(build_loops(settings, components, build_courier(settings, components)))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
