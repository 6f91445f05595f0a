"""Reading a topic as an outside consumer would: every record from its start to its current end."""
from __future__ import annotations

import json
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from shared.events import make_event
from shared.kafka import Producer
from shared.topics import CAMPAIGN_EVENTS, TopicSpec, physical_name

# Every topic prefix this session's tests took (each test's, each stack's started from outside): their topics are
# deleted at the end when the broker outlives the session (KAFKA_BOOTSTRAP_SERVERS), or a developer's broker gathers
# tens of thousands of partition folders over a few runs and stops on "Too many open files". Only this session's:
# another session may share the broker.
_SESSION_TOPIC_PREFIXES: set[str] = set()


def remember_topic_prefix(prefix: str) -> str:
    _SESSION_TOPIC_PREFIXES.add(prefix)
    return prefix


def forget_session_topics(bootstrap: str) -> None:
    """Deletes every topic whose name starts with a prefix this session remembered."""
    if not _SESSION_TOPIC_PREFIXES:
        return
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="guichet-tests-cleanup")
    try:
        doomed = sorted(topic for topic in admin.list_topics() if topic.startswith(tuple(_SESSION_TOPIC_PREFIXES)))
        for start in range(0, len(doomed), 200):
            admin.delete_topics(doomed[start:start + 200], timeout_ms=30_000)
    finally:
        admin.close()


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
