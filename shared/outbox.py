"""Transactional outbox and inbox.

The outbox: an event is a row written in the same transaction as the state it reports, so a
rolled-back change publishes nothing and a committed one is published even if the process dies
right after the commit. The relay publishes rows in order and marks them; a crash between
publishing and marking publishes them again, which the consumers' inbox absorbs.

A row holds one event (`envelope`) or a chunk of consecutive events of one type, topic and key (`chunk`, a
JSON array of envelopes, `event_count` of them): a draw announces 100,000 decisions, and one row per event cost
PostgreSQL more to write, read and mark than the events cost to send (docs/PERFORMANCE.md, "outbox chunks").
The relay sends a chunk's events one record each, as it sends single events: consumers see no difference.

The inbox: a consumer claims (consumer, event id) in the transaction that applies the event's
effects; a redelivered event finds its claim and changes nothing.
"""
from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby, islice
from typing import Any

import orjson
from kafka.errors import KafkaError
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Engine,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    any_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB, insert

from shared.db import insert_json_rows
from shared.events import Event, contract_for
from shared.kafka import Producer, cloudevent_headers

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox", metadata,
        Column("position", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(128), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("message_key", String(200), nullable=False),
        Column("envelope", JSONB),
        # `json`, not `jsonb`: PostgreSQL only checks its text (a third of jsonb's parsing, measured on a draw's
        # outbox), and nothing queries inside a chunk but the relay and a family's erasure.
        Column("chunk", JSON),
        Column("event_count", Integer, nullable=False, server_default=text("1")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index("ix_outbox_unpublished", "position", postgresql_where=text("published_at IS NULL")),
        CheckConstraint("(envelope IS NULL) <> (chunk IS NULL)", name="outbox_one_event_or_a_chunk"),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events", metadata,
        Column("consumer", String(128), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", Text),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def record_event(connection: Connection, outbox: Table, event: Event, key: str) -> None:
    """Add the event to the caller's transaction; it is published only if that transaction commits."""
    record_events(connection, outbox, [(event, key)])


def record_events(connection: Connection, outbox: Table, keyed_events: list[tuple[Event, str]]) -> None:
    """Several events in one statement of one JSON parameter, in order (a batch's events keep their relative order
    and take positions in it)."""
    insert_json_rows(connection, outbox, [
        {"event_id": event.id, "event_type": event.type, "topic": contract_for(event.type).topic.name,
         "message_key": key, "envelope": event.to_dict()} for event, key in keyed_events])


# Events per chunk row: a relay round (2,000 events) takes two, and a relay killed mid-round sends them again.
EVENTS_PER_CHUNK = 1000


def chunk_rows(rows: Iterable[Mapping[str, Any]], events_per_chunk: int = EVENTS_PER_CHUNK) -> Iterator[dict[str, Any]]:
    """Outbox rows of one event each (`event_id`, `event_type`, `topic`, `message_key`, `envelope` as a dict) as
    chunk rows, for a bulk write of many events: consecutive events of one type, topic and key share a row, in
    their order; the row's `event_id` is its first event's (so the same first event cannot enter twice)."""
    for (event_type, topic, key), same in groupby(rows, lambda row: (row["event_type"], row["topic"], row["message_key"])):
        while chunk := list(islice(same, events_per_chunk)):
            yield dict(event_id=chunk[0]["event_id"], event_type=event_type, topic=topic, message_key=key,
                       chunk=[row["envelope"] for row in chunk], event_count=len(chunk))


def outbox_envelopes(connection: Connection, outbox: Table, event_type: str) -> list[dict[str, Any]]:
    """The envelopes of every event of this type in the outbox, in order, chunks expanded (for tests and benches)."""
    return list(connection.execute(text(f"""
        SELECT coalesce(e.value::jsonb, o.envelope) FROM {outbox.fullname} o
            LEFT JOIN LATERAL json_array_elements(o.chunk) WITH ORDINALITY AS e(value, n) ON true
        WHERE o.event_type = :event_type ORDER BY o.position, e.n"""), {"event_type": event_type}).scalars())


def forget_in_published_chunks(connection: Connection, outbox: Table, family_account: str) -> None:
    """A family's erasure: its events leave the published chunks, the other families' events stay (a chunk
    left empty goes). Unpublished chunks are left to be sent first, as unpublished single events are."""
    # The account as JSON writes it narrows the chunks parsed to those that may name it.
    named = f"""
        SELECT o.position, count(*) FILTER (WHERE kept) AS remaining,
               json_agg(e.value ORDER BY e.n) FILTER (WHERE kept) AS events
        FROM {outbox.fullname} o, json_array_elements(o.chunk) WITH ORDINALITY AS e(value, n),
             LATERAL (SELECT (e.value -> 'data' ->> 'family_account') IS DISTINCT FROM :account AS kept) k
        WHERE o.published_at IS NOT NULL AND o.chunk IS NOT NULL AND strpos(o.chunk::text, :quoted) > 0
        GROUP BY o.position"""
    parameters = {"account": family_account, "quoted": orjson.dumps(family_account).decode()}
    connection.execute(text(f"""
        WITH named AS ({named}),
             emptied AS (DELETE FROM {outbox.fullname} o USING named
                         WHERE o.position = named.position AND named.remaining = 0)
        UPDATE {outbox.fullname} o SET chunk = named.events, event_count = named.remaining FROM named
        WHERE o.position = named.position AND named.remaining > 0
              AND named.remaining < o.event_count"""), parameters)


def claim_event(connection: Connection, inbox: Table, consumer: str, event_id: str, event_type: str | None = None) -> bool:
    """True the first time this consumer sees the event; False for a redelivery (do nothing then)."""
    # RETURNING, not rowcount: the driver reports rowcount -1 for this statement.
    inserted = connection.execute(
        insert(inbox).values(consumer=consumer, event_id=event_id, event_type=event_type)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(inbox.c.event_id)).first()
    return inserted is not None


def claim_events(connection: Connection, inbox: Table, consumer: str,
                 events: Iterable[tuple[str, str | None]]) -> set[str]:
    """`claim_event` for a batch in one statement: the ids of (event id, type) seen for the first time."""
    rows = {event_id: event_type for event_id, event_type in events}
    if not rows:
        return set()
    # The batch as one JSON parameter: a multi-row VALUES of 3 parameters a row is parsed anew by the driver
    # for every batch, which for a draw's decisions cost more than the claim itself.
    inserted = connection.execute(text(f"""
        INSERT INTO {inbox.fullname} (consumer, event_id, event_type)
        SELECT :consumer, v.event_id, v.event_type FROM jsonb_to_recordset(CAST(:rows AS jsonb))
            AS v(event_id text, event_type text)
        ON CONFLICT (consumer, event_id) DO NOTHING
        RETURNING event_id"""), {"consumer": consumer, "rows": orjson.dumps(
        [{"event_id": event_id, "event_type": event_type} for event_id, event_type in rows.items()]).decode()})
    return set(inserted.scalars())


class OutboxRelay:
    """Publishes unpublished outbox rows in insertion order.

    A transaction-scoped advisory lock makes one relay at a time publish a given outbox, so several
    processes may run a relay for availability without reordering a key's events.
    """

    # Rows per round: each round waits for the broker's acknowledgement and commits once, so larger
    # rounds relay a draw's 100,000 events several times faster (measured: docs/PERFORMANCE.md).
    # `idle_seconds`: the rest after a round that emptied the outbox (each round costs a transaction, a flush and an
    # acknowledgement whatever its size); a backlog is relayed without resting.
    def __init__(self, engine: Engine, outbox: Table, producer: Producer, batch_size: int = 2000,
                 idle_seconds: float = 0.1):
        self.engine = engine
        self.outbox = outbox
        self.producer = producer
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self._lock_key = zlib.crc32(f"outbox:{outbox.fullname}".encode())
        self._stopping = threading.Event()

    def publish_pending(self, send_timeout: float = 30.0) -> int:
        """One round: up to `batch_size` events (at least one row), sent in order and marked; how many were sent."""
        with self.engine.begin() as connection:
            if not connection.execute(select(func.pg_try_advisory_xact_lock(self._lock_key))).scalar():
                return 0
            positions = self._next_round(connection)
            if not positions:
                return 0
            # Each envelope as PostgreSQL prints it as jsonb, sent as it is: decoding each into a dict and encoding
            # it again was a fifth of the relay's CPU for a draw's 100,000 events (docs/PERFORMANCE.md, "Close to
            # families"). A chunk's envelopes come out one per record, printed as the single rows' are, so the
            # broker receives the same bytes whichever way an event was stored. The headers come from the
            # row's own columns, or the chunk's envelope, written from the same event.
            records = connection.execute(text(f"""
                SELECT o.topic, o.message_key, o.event_type, coalesce(e.value ->> 'id', o.event_id),
                       coalesce(e.value::jsonb, o.envelope)::text
                FROM {self.outbox.fullname} o
                    LEFT JOIN LATERAL json_array_elements(o.chunk) WITH ORDINALITY AS e(value, n) ON true
                WHERE o.position = ANY(:positions) ORDER BY o.position, e.n"""), {"positions": positions}).all()
            futures = [self.producer.send(topic, key, envelope.encode(), headers=cloudevent_headers(event_type, event_id))
                       for topic, key, event_type, event_id, envelope in records]
            self.producer.flush(timeout=send_timeout)
            for future in futures:
                future.get(timeout=send_timeout)  # any failure rolls back the marking: retried next round
            self._mark_published(connection, positions)
            return len(records)

    def _mark_published(self, connection: Connection, positions: list[int]) -> None:
        # One array parameter: an IN list of 2,000 parameters cost the driver 30 ms to parse each round.
        connection.execute(update(self.outbox)
                           .where(self.outbox.c.position == any_(bindparam(
                               "positions", positions, type_=ARRAY(BigInteger))))
                           .values(published_at=func.now()))

    def _next_round(self, connection: Connection) -> list[int]:
        """The oldest unpublished rows holding up to `batch_size` events (the first row whatever its size)."""
        pending = connection.execute(
            select(self.outbox.c.position, self.outbox.c.event_count)
            .where(self.outbox.c.published_at.is_(None))
            .order_by(self.outbox.c.position)
            .limit(self.batch_size)).all()
        positions, events = [], 0
        for position, count in pending:
            if positions and events + count > self.batch_size:
                break
            positions.append(position)
            events += count
        return positions

    def run(self, error_backoff_seconds: float = 1.0) -> None:
        while not self._stopping.is_set():
            try:
                published = self.publish_pending()
            except KafkaError:
                log.exception("outbox relay could not publish", extra={"outbox": self.outbox.fullname})
                self._replace_producer()
                self._stopping.wait(error_backoff_seconds)
                continue
            except Exception:  # noqa: BLE001 — database away: keep the rows, try again
                log.exception("outbox relay round failed", extra={"outbox": self.outbox.fullname})
                self._stopping.wait(error_backoff_seconds)
                continue
            if published < self.batch_size:
                self._stopping.wait(self.idle_seconds)

    def stop(self) -> None:
        self._stopping.set()

    def _replace_producer(self) -> None:
        try:
            self.producer.reset()
        except KafkaError:
            pass  # the broker is still away: the next round tries again

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name=f"outbox-relay-{self.outbox.fullname}", daemon=True)
        thread.start()
        return thread

    def pending_count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.coalesce(func.sum(self.outbox.c.event_count), 0))
                                      .where(self.outbox.c.published_at.is_(None))).scalar_one()

