"""The outbox → relay → Kafka → inbox chain, through the real broker and database. The relay sends each envelope
as PostgreSQL stored it, in the outbox's order: what a consumer decodes is the event recorded, with its headers.
Outbox chunks (one row holding many events, as a draw writes its decisions) reach the broker as the records of the
same events stored one per row; a relay killed in the middle sends again only the round it was sending, which the
inbox absorbs; a family's erasure takes its events out of published chunks."""
import json
import subprocess
import sys
import uuid

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import create_engine, select, text, update

from shared.events import Event, make_event
from shared.kafka import JsonDeserializer, Producer, ensure_topics
from shared.outbox import (
    OutboxRelay,
    chunk_rows,
    forget_in_published_chunks,
    outbox_envelopes,
    record_event,
    record_events,
)
from shared.topics import physical_name
from tests.support import outbox_chain as chain

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture
def chain_env(make_settings):
    settings = make_settings("chain")
    engine = create_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA chain"))
    chain.metadata.create_all(engine)
    ensure_topics(settings, [chain.CHAIN_TOPIC])
    producer = Producer(settings)
    yield settings, engine, OutboxRelay(engine, chain.outbox, producer)
    producer.close()
    engine.dispose()


def ping(engine, ping_id: str, commit: bool = True) -> str:
    event = make_event("test.chain-pinged", source="/tests/chain", subject=f"pings/{ping_id}", data={"ping_id": ping_id})
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(chain.pings.insert().values(ping_id=ping_id))
    record_event(connection, chain.outbox, event, key=ping_id)
    (transaction.commit if commit else transaction.rollback)()
    connection.close()
    return event.id


def consume_process(settings, crash: bool, stop_after: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.support.outbox_chain", settings.database_url,
         settings.kafka_bootstrap_servers, settings.kafka_topic_prefix, "crash" if crash else "run", str(stop_after)],
        cwd=REPO, capture_output=True, text=True, timeout=120)


def records_on_topic(settings) -> list:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=3000)
    consumer.subscribe([physical_name(chain.CHAIN_TOPIC.name, settings.kafka_topic_prefix)])
    records = list(consumer)
    consumer.close()
    return records


def test_rolled_back_transaction_publishes_nothing(chain_env):
    settings, engine, relay = chain_env
    ping(engine, "kept")
    ping(engine, "rolled-back", commit=False)
    assert relay.publish_pending() == 1
    assert relay.pending_count() == 0
    keys = [r.key for r in records_on_topic(settings)]
    assert keys == [b"kept"]


def test_event_is_applied_once_when_consumer_dies_before_committing_its_offset(chain_env):
    settings, engine, relay = chain_env
    ping_id = f"ping-{uuid.uuid4().hex[:6]}"
    event_id = ping(engine, ping_id)
    assert relay.publish_pending() == 1

    crashed = consume_process(settings, crash=True, stop_after=1)
    assert crashed.returncode == 17, crashed.stderr
    assert chain.count(engine, chain.effects) == 1

    resumed = consume_process(settings, crash=False, stop_after=2)
    assert resumed.returncode == 0, resumed.stderr
    with engine.connect() as connection:
        delivered = connection.execute(chain.deliveries.select()).all()
    assert [row.event_id for row in delivered] == [event_id, event_id]  # really redelivered …
    assert chain.count(engine, chain.effects) == 1                      # … and applied once

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                             group_id=f"{settings.kafka_topic_prefix}chain", enable_auto_commit=False)
    topic = physical_name(chain.CHAIN_TOPIC.name, settings.kafka_topic_prefix)
    partitions = [TopicPartition(topic, p) for p in range(chain.CHAIN_TOPIC.partitions)]
    committed = sum(consumer.committed(tp) or 0 for tp in partitions)
    ends = sum(consumer.end_offsets(partitions).values())
    consumer.close()
    assert committed == ends == 1


def test_relay_republishing_after_a_crash_is_absorbed_by_the_inbox(chain_env):
    settings, engine, relay = chain_env
    ping(engine, "twice")
    assert relay.publish_pending() == 1
    # The relay died after sending but before marking the row: it sends the same event again.
    with engine.begin() as connection:
        connection.execute(update(chain.outbox).values(published_at=None))
    assert relay.publish_pending() == 1

    finished = consume_process(settings, crash=False, stop_after=2)
    assert finished.returncode == 0, finished.stderr
    assert chain.count(engine, chain.deliveries) == 2
    assert chain.count(engine, chain.effects) == 1


def record_pings(engine, key: str, count: int) -> list:
    """`count` events under one key in one transaction, with text a re-encoding could alter (accents, quotes,
    a line break, a large integer, a float)."""
    events = [Event(type="test.chain-pinged", source="/tests/relay", subject=f"pings/{n}",
                    data={"ping_id": f"élan \"{n}\"\n", "rank": 2 ** 60 + n, "share": n / 4})
              for n in range(count)]
    with engine.begin() as connection:
        record_events(connection, chain.outbox, [(event, key) for event in events])
    return events


def test_events_reach_the_broker_in_outbox_order_as_recorded_with_their_headers(chain_env):
    settings, engine, chain_relay = chain_env
    key = f"campaign-{uuid.uuid4().hex[:6]}"
    events = record_pings(engine, key, 7)
    relay = OutboxRelay(engine, chain.outbox, chain_relay.producer, batch_size=3)

    assert [relay.publish_pending() for _ in range(4)] == [3, 3, 1, 0]
    assert relay.pending_count() == 0

    records = records_on_topic(settings)
    decoded = [JsonDeserializer().deserialize("", [], record.value) for record in records]
    assert decoded == [event.to_dict() for event in events]  # in order, every value as recorded
    assert [json.loads(record.value) for record in records] == decoded
    assert {record.partition for record in records} == {records[0].partition}
    assert [dict(record.headers) for record in records] == [
        {"content-type": b"application/cloudevents+json", "ce_type": b"test.chain-pinged",
         "ce_id": event.id.encode()} for event in events]


def test_a_round_not_marked_is_sent_again_in_the_same_order(chain_env):
    """At least once: rows whose marking was lost (the relay died after sending) go out again, in order."""
    settings, engine, chain_relay = chain_env
    events = record_pings(engine, "again", 4)
    relay = OutboxRelay(engine, chain.outbox, chain_relay.producer, batch_size=10)
    assert relay.publish_pending() == 4
    with engine.begin() as connection:
        last_two = connection.execute(select(chain.outbox.c.position).order_by(chain.outbox.c.position)
                                      .offset(2)).scalars().all()
        connection.execute(update(chain.outbox).where(chain.outbox.c.position.in_(last_two)).values(published_at=None))
    assert relay.publish_pending() == 2
    assert relay.publish_pending() == 0

    ids = [json.loads(record.value)["id"] for record in records_on_topic(settings)]
    assert ids == [event.id for event in events] + [event.id for event in events[2:]]


def chunk_pings(count: int, key: str, family=lambda n: f"family-{n % 3}") -> list[tuple[Event, str]]:
    """Events with text a re-encoding could alter (accents, quotes, a line break, a large integer, a float)."""
    return [(Event(type="test.chain-pinged", source="/tests/chunks", subject=f"pings/{n}",
                   data={"ping_id": f"élan \"{key}-{n}\"\n", "rank": 2 ** 60 + n, "share": n / 4,
                         "family_account": family(n)}), key)
            for n in range(count)]


def record_chunks(engine, keyed_events: list[tuple[Event, str]], events_per_chunk: int) -> None:
    single_rows = [{"event_id": event.id, "event_type": event.type, "topic": chain.CHAIN_TOPIC.name,
                    "message_key": key, "envelope": event.to_dict()} for event, key in keyed_events]
    with engine.begin() as connection:
        connection.execute(chain.outbox.insert(), list(chunk_rows(single_rows, events_per_chunk)))


def test_consecutive_events_of_one_key_share_chunks_in_their_order():
    rows = [{"event_id": f"e{n}", "event_type": "t", "topic": "x", "message_key": "a" if n < 5 else "b",
             "envelope": {"n": n}} for n in range(7)]
    chunks = list(chunk_rows(rows, events_per_chunk=2))
    assert [(c["event_id"], c["message_key"], c["chunk"], c["event_count"]) for c in chunks] == [
        ("e0", "a", [{"n": 0}, {"n": 1}], 2), ("e2", "a", [{"n": 2}, {"n": 3}], 2), ("e4", "a", [{"n": 4}], 1),
        ("e5", "b", [{"n": 5}, {"n": 6}], 2)]


def test_a_chunk_reaches_the_broker_as_the_same_records_as_its_events_one_per_row(chain_env):
    settings, engine, relay = chain_env
    events = chunk_pings(7, "campaign")
    with engine.begin() as connection:
        record_events(connection, chain.outbox, events)
    assert relay.publish_pending() == 7
    with engine.begin() as connection:
        connection.execute(chain.outbox.delete())
    record_chunks(engine, events, events_per_chunk=3)
    assert relay.pending_count() == 7
    # Rounds of whole chunks: 3 + 3 fit in 6, the last chunk waits for the next round.
    relay.batch_size = 6
    assert [relay.publish_pending(), relay.publish_pending(), relay.publish_pending()] == [6, 1, 0]
    assert relay.pending_count() == 0

    records = records_on_topic(settings)
    one_per_row, chunked = records[:7], records[7:]
    assert [(r.key, r.value, r.headers, r.partition) for r in chunked] == [
        (r.key, r.value, r.headers, r.partition) for r in one_per_row]  # byte for byte, in order


def test_a_relay_killed_in_the_middle_sends_again_only_the_round_in_flight(chain_env):
    settings, engine, _ = chain_env
    events = chunk_pings(9, "killed")
    record_chunks(engine, events, events_per_chunk=3)
    died = subprocess.run(
        [sys.executable, "-m", "tests.support.outbox_chain", settings.database_url, settings.kafka_bootstrap_servers,
         settings.kafka_topic_prefix, "relay-dies", "3"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert died.returncode == 17, died.stderr
    with engine.connect() as connection:
        marked = connection.execute(select(chain.outbox.c.event_count).where(chain.outbox.c.published_at.is_not(None))
                                    .order_by(chain.outbox.c.position)).scalars().all()
    assert marked == [3]  # the first chunk; the second was sent, not marked

    relay = OutboxRelay(engine, chain.outbox, chain_env[2].producer, batch_size=3)
    assert [relay.publish_pending() for _ in range(3)] == [3, 3, 0]

    ids = [event.id for event, _ in events]
    sent = [dict(record.headers)["ce_id"].decode() for record in records_on_topic(settings)]
    assert sent == ids[:6] + ids[3:6] + ids[6:]  # the second chunk twice, nothing else

    consumed = consume_process(settings, crash=False, stop_after=12)
    assert consumed.returncode == 0, consumed.stderr
    assert chain.count(engine, chain.deliveries) == 12
    assert chain.count(engine, chain.effects) == 9  # each event applied once


def test_erasure_takes_a_familys_events_out_of_published_chunks_only(chain_env):
    settings, engine, relay = chain_env
    events = chunk_pings(6, "erased", family=lambda n: "family-gone" if n in (0, 1, 4) else f"family-{n}")
    record_chunks(engine, events[:2], events_per_chunk=2)  # only the family's: the row goes
    record_chunks(engine, events[2:], events_per_chunk=4)  # one of the family's among others': it leaves
    assert relay.publish_pending() == 6
    unpublished = chunk_pings(2, "later", family=lambda n: "family-gone")
    record_chunks(engine, unpublished, events_per_chunk=2)

    with engine.begin() as connection:
        forget_in_published_chunks(connection, chain.outbox, "family-gone")
    with engine.connect() as connection:
        remaining = outbox_envelopes(connection, chain.outbox, "test.chain-pinged")
        counts = connection.execute(select(chain.outbox.c.event_count).order_by(chain.outbox.c.position)).scalars().all()
        mentions = connection.execute(text(
            "SELECT count(*) FROM chain.outbox WHERE published_at IS NOT NULL AND chunk::text LIKE '%family-gone%'"
        )).scalar_one()
    assert [envelope["id"] for envelope in remaining] == [
        event.id for event, _ in events if event.data["family_account"] != "family-gone"] + [
        event.id for event, _ in unpublished]  # the unpublished chunk is sent first, as single events are
    assert counts == [3, 2]
    assert mentions == 0
