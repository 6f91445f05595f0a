"""Reading a topic as an outside consumer would: every record from its start to its current end."""
from __future__ import annotations

import json
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from shared.events import make_event
from shared.kafka import Producer
from shared.topics import CAMPAIGN_EVENTS, TopicSpec, physical_name


def records_on(settings, topic: TopicSpec, event_type: str | None = None) -> list:
    """The raw records (key, headers, bytes), optionally of one CloudEvents type (its ce_type header)."""
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
    if event_type is None:
        return records
    return [record for record in records if dict(record.headers).get("ce_type") == event_type.encode()]


def events_on(settings, topic: TopicSpec, event_type: str | None = None) -> list[dict[str, Any]]:
    """Every record on the topic as a CloudEvent (optionally of one type)."""
    envelopes = [json.loads(record.value) for record in records_on(settings, topic)]
    return [envelope for envelope in envelopes if event_type in (None, envelope["type"])]


def deliver_again(settings, topic: TopicSpec, records: list) -> None:
    """The very same records (key, headers, bytes) once more, as after a producer's retry."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    name = physical_name(topic.name, settings.kafka_topic_prefix)
    try:
        for record in records:
            producer.send(name, key=record.key, value=record.value, headers=record.headers).get(timeout=10)
    finally:
        producer.close()


def announce_window(settings, event_type: str, campaign_id, at, version: int = 1) -> None:
    """campaign.opened or campaign.closed, as the campaigns scheduler publishes it."""
    producer = Producer(settings)
    try:
        producer.send_event(CAMPAIGN_EVENTS.name, str(campaign_id), make_event(
            event_type, source="/guichet/campaigns", subject=f"campaigns/{campaign_id}",
            data={"campaign_id": campaign_id, "version": version, "at": at})).get(timeout=30)
    finally:
        producer.close()
