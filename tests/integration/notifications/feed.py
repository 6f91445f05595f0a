"""Billing-feed events as allocation publishes them: keyed by family account, with CloudEvents headers."""
from __future__ import annotations

from shared.events import Event
from shared.kafka import Producer
from shared.topics import BILLING_FEED
from tests.integration.notifications.support import event


def confirmed(family_account: str, line: str, **data) -> Event:
    return event("registration.confirmed", family_account=family_account, line_id=f"reg-{line}", **data)


def cancelled(family_account: str, line: str, **data) -> Event:
    return event("registration.cancelled", family_account=family_account, line_id=f"rev-{line}",
                 reverses_line_id=f"reg-{line}", **data)


def publish_feed(settings, *events: Event) -> None:
    producer = Producer(settings)
    try:
        for each in events:
            producer.send_event(BILLING_FEED.name, each.data["family_account"], each).get(timeout=10)
    finally:
        producer.close()
