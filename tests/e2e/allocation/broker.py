"""Talking to the real broker as the other services do: sending their events, reading what allocation sent."""
from __future__ import annotations

import json
from typing import Any, Iterable

from kafka import KafkaConsumer, TopicPartition

from shared.events import Event
from shared.kafka import Producer
from shared.topics import TopicSpec, physical_name
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


def events_on(settings, topic: TopicSpec, event_type: str | None = None) -> list[dict[str, Any]]:
    """Every record on the topic, from the start to its current end, as CloudEvents (optionally of one type)."""
    name = physical_name(topic.name, settings.kafka_topic_prefix)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records = []
        while any(consumer.position(p) < ends[p] for p in partitions):
            for batch in consumer.poll(timeout_ms=1000).values():
                records.extend(batch)
    finally:
        consumer.close()
    envelopes = [json.loads(record.value) for record in records]
    return [envelope for envelope in envelopes if event_type in (None, envelope["type"])]
