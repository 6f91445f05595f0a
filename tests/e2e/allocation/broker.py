"""Talking to the real broker as the other services do: sending their events."""
from __future__ import annotations

from typing import Any, Iterable

from shared.events import Event
from shared.kafka import Producer
from shared.topics import TopicSpec
from tests.integration.allocation.support import event


def send(settings, topic: TopicSpec, keyed: Iterable[tuple[str, dict[str, Any]]], key: Any) -> list[Event]:
    """Send (event type, data) pairs on `topic`, all under one message key, in order."""
    producer = Producer(settings)
    sent = [event(event_type, data) for event_type, data in keyed]
    futures = [producer.send_event(topic.name, str(key), one) for one in sent]
    producer.flush(timeout=30)
    for future in futures:
        future.get(timeout=30)
    producer.close()
    return sent
