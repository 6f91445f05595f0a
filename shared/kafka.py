"""Kafka at the edge: a producer that only reports what the broker acknowledged, a consumer loop
that commits after its handler succeeded, and topic creation at start-up."""
from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.partitioner.default import DefaultPartitioner, murmur2
from kafka.serializer import Deserializer, Serializer
from kafka.structs import OffsetAndMetadata

from shared.config import Settings
from shared.events import Event
from shared.events.envelope import CONTENT_TYPE
from shared.topics import ALL_TOPICS, DEAD_LETTER_SUFFIX, TopicSpec, physical_name

log = logging.getLogger(__name__)


class JsonSerializer(Serializer):
    """Compact UTF-8 JSON. orjson writes the same bytes as json.dumps(separators=(",", ":"), ensure_ascii=False)
    for JSON's own types, about 15 times faster: on intake's path, in the request's thread (docs/PERFORMANCE.md,
    "Intake at a fraction of its cost"). What orjson refuses (an integer beyond 64 bits) goes through json."""

    def serialize(self, topic: str, headers: Any, data: Any) -> bytes:
        if isinstance(data, bytes):
            return data  # JSON already (the outbox relay sends each envelope as PostgreSQL printed it)
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


class JsonDeserializer(Deserializer):
    """orjson reads a record several times faster than json.loads, and gives the same Python values for JSON
    (a draw's 100,000 decisions are read by registrations' consumer: docs/PERFORMANCE.md, "Close to families").
    What orjson refuses and json reads (NaN, Infinity, a lone surrogate escape) goes through json, and so does
    a record with 19 digits in a row somewhere: orjson reads an integer beyond 64 bits as a float, json as an
    int. Every consumer gets what json gave it; what neither reads raises json's error."""

    def deserialize(self, topic: str, headers: Any, data: bytes | None) -> Any:
        if data is None:
            return None
        if _NINETEEN_DIGITS not in bytes(data).translate(_DIGITS_AS_ZERO):  # a regular expression is 10 times slower
            try:
                return orjson.loads(data)
            except orjson.JSONDecodeError:
                pass
        return json.loads(data)


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


class KeyedPartitioner(DefaultPartitioner):
    """kafka-python's default partitioner (murmur2 of the key, modulo the topic's partitions), with each
    key's hash remembered: it is pure Python, about 20 µs a record, and a draw's 100,000 decisions all carry
    their campaign's key. A key goes where the default partitioner sends it, with the partitions the
    cluster lists at each send (records of a key keep their order: they all go to one partition)."""

    def __init__(self, remembered: int = 4096):
        self._hash = lru_cache(maxsize=remembered)(murmur2)

    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):
        if serialized_key is None:
            return super().partition(topic, key, serialized_key, value, serialized_value, cluster)
        if topic not in cluster.topics():
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        all_partitions = sorted(cluster.partitions_for_topic(topic))
        return all_partitions[(self._hash(bytes(serialized_key)) & 0x7fffffff) % len(all_partitions)]


class TextSerializer(Serializer):
    def serialize(self, topic: str, headers: Any, data: str | bytes | None) -> bytes | None:
        return data.encode() if isinstance(data, str) else data


class TextDeserializer(Deserializer):
    def deserialize(self, topic: str, headers: Any, data: bytes | None) -> str | None:
        return None if data is None else data.decode()


def security_options(settings: Settings) -> dict[str, Any]:
    """The kafka-python options that authenticate a client as this service's principal: none with PLAINTEXT
    (the default, so a client without security settings behaves as before), TLS with the given CA for SSL,
    SASL (SCRAM-SHA-512 by default) with the password read from its file for SASL_SSL or SASL_PLAINTEXT.
    The password file is read at each client's creation: a rotated Secret reaches the next client."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL") and settings.kafka_ssl_cafile is not None:
        options["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    if protocol.startswith("SASL_"):
        if not settings.kafka_sasl_username or settings.kafka_sasl_password_file is None:
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and "
                             "KAFKA_SASL_PASSWORD_FILE")
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password_file.read_text().strip())
    return options


def client_options(settings: Settings, **options: Any) -> dict[str, Any]:
    """Bootstrap servers and security for any kafka-python client (producer, consumer, admin) of `settings`."""
    return {"bootstrap_servers": settings.kafka_bootstrap_servers.split(","), **security_options(settings),
            **options}


class Producer:
    """acks=all and the idempotent producer: a send reported as done is on the broker, once."""

    def __init__(self, settings: Settings, **overrides: Any):
        self.prefix = settings.kafka_topic_prefix
        options: dict[str, Any] = client_options(
            settings,
            client_id=f"{settings.service_name}-producer",
            acks="all",
            enable_idempotence=True,
            linger_ms=settings.kafka_linger_ms,
            compression_type=None if settings.kafka_compression_type == "none" else settings.kafka_compression_type,
            batch_size=settings.kafka_batch_bytes,
            key_serializer=TextSerializer(),
            value_serializer=JsonSerializer(),
            partitioner=KeyedPartitioner(),
            # Fail fast when the broker is away: callers turn that into 503 + Retry-After.
            max_block_ms=5_000,
            bootstrap_timeout_ms=5_000,
            request_timeout_ms=10_000,
            delivery_timeout_ms=30_000,
        )
        options.update(overrides)
        self._options = options
        self._swap = threading.Lock()
        self._producer = KafkaProducer(**options)

    def reset(self, failed: KafkaProducer | None = None) -> None:
        """Start afresh after a delivery failed. After an outage longer than the delivery timeout the
        idempotent producer can stay wedged on expired batches: every later send times out until it is
        replaced. Records still buffered in the old one fail, and their senders answer 503 (retry)."""
        with self._swap:
            if failed is not None and failed is not self._producer:
                return  # another thread already replaced it
            stale, self._producer = self._producer, KafkaProducer(**self._options)
        stale.close(timeout=0)

    @property
    def current(self) -> KafkaProducer:
        return self._producer

    def send(self, topic: str, key: str, value: Any, headers: Sequence[tuple[str, bytes]] = ()):
        """Start a send; the returned future resolves once the broker acknowledged it."""
        return self.send_physical(physical_name(topic, self.prefix), key, value, headers)

    def send_physical(self, topic: str, key: str | bytes | None, value: Any, headers: Sequence[tuple[str, bytes]] = ()):
        """Send to a topic name already prefixed (a record's own topic, e.g. for its dead letter)."""
        return self._producer.send(topic, key=key, value=value, headers=list(headers))

    def send_event(self, topic: str, key: str, event: Event):
        return self.send(topic, key, event.to_dict(), headers=cloudevent_headers(event.type, event.id))

    def publish(self, topic: str, key: str, value: Any, timeout: float = 10.0, headers=()):
        return self.send(topic, key, value, headers).get(timeout=timeout)

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)

    def close(self, timeout: float = 5.0) -> None:
        self._producer.close(timeout=timeout)


def cloudevent_headers(event_type: str, event_id: str) -> list[tuple[str, bytes]]:
    """Lets a consumer route or skip a record without parsing its body."""
    return [("content-type", CONTENT_TYPE.encode()), ("ce_type", event_type.encode()), ("ce_id", event_id.encode())]


def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = ALL_TOPICS, with_dead_letters: bool = True) -> None:
    """Create the topics that are missing; safe to run from every service at every start."""
    wanted: dict[str, dict[str, Any]] = {}
    for spec in specs:
        wanted[physical_name(spec.name, settings.kafka_topic_prefix)] = {
            "num_partitions": spec.partitions, "replication_factor": -1, "configs": dict(spec.configs)}
        if with_dead_letters:  # a dead letter is a copy of a record: it keeps the record's retention
            wanted[physical_name(spec.dead_letter, settings.kafka_topic_prefix)] = {
                "num_partitions": 1, "replication_factor": -1, "configs": dict(spec.configs)}
    admin = KafkaAdminClient(**client_options(settings, client_id=f"{settings.service_name}-admin"))
    try:
        existing = set(admin.list_topics())
        missing = {name: options for name, options in wanted.items() if name not in existing}
        if missing:
            try:
                admin.create_topics(missing, timeout_ms=15_000, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                pass  # another service created them between our listing and our request
        _apply_configs(admin, {name: options["configs"] for name, options in wanted.items() if options["configs"]})
    finally:
        admin.close()


def _apply_configs(admin: KafkaAdminClient, configs: dict[str, dict[str, str]]) -> None:
    """Give topics created before a setting existed (a retention period, say) the value the spec names."""
    from kafka.admin import ConfigResource, ConfigResourceType

    if not configs:
        return
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in configs])
    current = described.get("topic", {})  # per topic, the keys set to other than the broker's default
    stale = [ConfigResource(ConfigResourceType.TOPIC, name, configs=wanted) for name, wanted in configs.items()
             if any((current.get(name) or {}).get(key, {}).get("value") != value for key, value in wanted.items())]
    if stale:
        log.info("topic configs set", extra={"topics": sorted(r.name for r in stale),
                                             "result": admin.alter_configs(stale)})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_backoff_s: float = 0.2
    max_backoff_s: float = 5.0

    def backoff(self, attempt: int) -> float:
        return min(self.first_backoff_s * 2 ** (attempt - 1), self.max_backoff_s)


class StopRequested(Exception):
    """Stopping while a record still fails: leave its offset uncommitted, it comes again after restart."""


def is_transient(error: BaseException) -> bool:
    import redis.exceptions
    import sqlalchemy.exc

    return isinstance(error, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                              redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, KafkaError))


RecordHandler = Callable[[Any], None]
BatchHandler = Callable[[list[Any]], None]


class ConsumerLoop:
    """Poll, handle, then commit: an offset is committed only after its record's handler succeeded.

    Handlers must be idempotent (the inbox table does that): a crash between handling and
    committing redelivers the record. A record that still fails after the retry policy goes to
    the topic's dead-letter topic with the error, so one bad record cannot stop a partition.
    `batch_handler`, when given, gets each partition's polled records at once (batched writes);
    if the batch keeps failing the records are retried one by one to isolate the bad one. With
    `across_partitions`, it first gets every partition's records of one poll at once, in each partition's
    order (a consumer that keeps up polls a few records from each of many partitions, and pays a
    transaction per partition otherwise); if that call fails, the poll is taken partition by partition.
    """

    def __init__(self, settings: Settings, group_id: str, topics: Sequence[TopicSpec], *,
                 handler: RecordHandler, batch_handler: BatchHandler | None = None, across_partitions: bool = False,
                 retry: RetryPolicy = RetryPolicy(), max_poll_records: int = 500, **consumer_overrides: Any):
        self.settings = settings
        self.group_id = group_id
        self.topics = [physical_name(t.name, settings.kafka_topic_prefix) for t in topics]
        self.handler = handler
        self.batch_handler = batch_handler
        self.across_partitions = across_partitions
        self.retry = retry
        self._stopping = threading.Event()
        options: dict[str, Any] = client_options(
            settings,
            group_id=group_id,
            client_id=f"{settings.service_name}-{group_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_poll_records,
            # A crashed worker's partitions move to a live one after this long (the broker's minimum is 6 s).
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
            # A member that joined while a topic's partitions were not listed yet gets them at the
            # next metadata refresh; kafka-python's default (5 min) would leave it idle that long.
            metadata_max_age_ms=15_000,
            value_deserializer=JsonDeserializer(),
            key_deserializer=TextDeserializer(),
        )
        options.update(consumer_overrides)
        self._consumer_options = options
        self._consumer: KafkaConsumer | None = None
        self._dead_letters: Producer | None = None
        self._last_error: Exception | None = None

    def stop(self, *_: Any) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, poll_timeout_ms: int = 500, until: Callable[[], bool] | None = None) -> None:
        self._consumer = KafkaConsumer(**self._consumer_options)
        self._wait_for_topic_metadata()
        self._consumer.subscribe(self.topics)
        log.info("consumer started", extra={"group": self.group_id, "topics": self.topics})
        try:
            while not self.stopping and not (until and until()):
                try:
                    self.poll_once(poll_timeout_ms)
                except StopRequested:
                    break
                except KafkaError as exc:
                    # The broker is restarting or the group rebalancing: records whose offsets were not
                    # committed come again, and the handlers are idempotent. Wait, then carry on.
                    log.warning("consumer round failed; retrying", extra={"group": self.group_id, "error": repr(exc)})
                    self._stopping.wait(self.retry.first_backoff_s * 5)
        finally:
            self._consumer.close(autocommit=False)
            if self._dead_letters is not None:
                self._dead_letters.close()
            log.info("consumer stopped", extra={"group": self.group_id})

    def _wait_for_topic_metadata(self, patience_s: float = 60.0) -> None:
        # A group member that joins before the broker lists a topic's partitions is assigned nothing
        # for it, and only notices at the next metadata refresh (minutes): just after provisioning,
        # that member would sit idle while records pile up. Join once every topic is listed.
        assert self._consumer is not None
        deadline = time.monotonic() + patience_s
        missing = list(self.topics)
        while missing and not self.stopping:
            missing = [topic for topic in missing if not self._consumer.partitions_for_topic(topic)]
            if not missing or time.monotonic() >= deadline:
                break
            self._stopping.wait(0.2)
        if missing:
            log.warning("topics not listed by the broker yet; joining anyway",
                        extra={"group": self.group_id, "topics": missing})

    def poll_once(self, poll_timeout_ms: int = 500) -> int:
        assert self._consumer is not None
        polled = self._consumer.poll(timeout_ms=poll_timeout_ms)
        if self.across_partitions and self.batch_handler is not None and len(polled) > 1 \
                and self._handled_at_once(polled):
            self._consumer.commit({partition: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                                   for partition, records in polled.items()})
            return sum(len(records) for records in polled.values())
        handled = 0
        for partition, records in polled.items():
            self._handle_partition(records)
            last = records[-1]
            self._consumer.commit({partition: OffsetAndMetadata(last.offset + 1, "", -1)})
            handled += len(records)
        return handled

    def _handled_at_once(self, polled: dict[Any, list[Any]]) -> bool:
        """One call for the whole poll, tried once: whatever fails it (a bad record, a database away) is met
        again partition by partition, where it is retried, waited for or set aside."""
        assert self.batch_handler is not None
        try:
            self.batch_handler([record for records in polled.values() for record in records])
            return True
        except Exception as exc:  # noqa: BLE001 — taken again partition by partition
            log.warning("poll's batch failed; taking it partition by partition",
                        extra={"group": self.group_id, "partitions": len(polled), "error": repr(exc)})
            return False

    def _handle_partition(self, records: list[Any]) -> None:
        if self.batch_handler is not None and len(records) > 1:
            if self._attempt(lambda: self.batch_handler(records), what=f"batch of {len(records)}"):
                return
        for record in records:
            if not self._attempt(lambda record=record: self.handler(record), what=f"{record.topic}/{record.partition}@{record.offset}"):
                self._dead_letter(record)

    def _attempt(self, call: Callable[[], None], what: str) -> bool:
        attempt = 0
        while True:
            try:
                call()
                return True
            except Exception as exc:  # noqa: BLE001 — any handler failure is retried, then dead-lettered
                self._last_error = exc
                transient = is_transient(exc)
                # A database, cache or broker that is away is no fault of the record: wait for it, never
                # dead-letter (that would drop the record from its consumer's state).
                attempt = attempt if transient else attempt + 1
                log.warning("handler failed", extra={"what": what, "attempt": attempt, "transient": transient,
                                                     "error": repr(exc)})
                if attempt >= self.retry.max_attempts:
                    return False
                if self.stopping:
                    raise StopRequested() from exc
                time.sleep(self.retry.backoff(max(attempt, 1) if not transient else self.retry.max_attempts))

    def _dead_letter(self, record: Any) -> None:
        if self._dead_letters is None:
            self._dead_letters = Producer(self.settings, client_id=f"{self.settings.service_name}-dlt")
        error = repr(self._last_error)[:2000]
        headers = list(record.headers or []) + [
            ("dlt.original-topic", record.topic.encode()),
            ("dlt.original-partition", str(record.partition).encode()),
            ("dlt.original-offset", str(record.offset).encode()),
            ("dlt.consumer-group", self.group_id.encode()),
            ("dlt.error", error.encode()),
        ]
        self._dead_letters.send_physical(record.topic + DEAD_LETTER_SUFFIX, record.key, record.value,
                                         headers).get(timeout=30)
        log.error("record sent to dead-letter topic", extra={"topic": record.topic, "offset": record.offset, "error": error})


class KafkaProbe:
    """Readiness: does a broker answer a metadata request right now? Cached briefly so that a
    load balancer polling /readyz does not open a connection per poll."""

    def __init__(self, settings: Settings, cache_seconds: float = 1.0, timeout_ms: int = 2_000):
        self.settings = settings
        self.cache_seconds = cache_seconds
        self.timeout_ms = timeout_ms
        self._checked_at = 0.0
        self._last: tuple[bool, str] = (False, "not checked")
        self._lock = threading.Lock()

    def __call__(self) -> tuple[bool, str]:
        with self._lock:
            if time.monotonic() - self._checked_at > self.cache_seconds:
                self._last = self._check()
                self._checked_at = time.monotonic()
            return self._last

    def _check(self) -> tuple[bool, str]:
        try:
            admin = KafkaAdminClient(**client_options(self.settings, client_id=f"{self.settings.service_name}-probe",
                                                      request_timeout_ms=self.timeout_ms,
                                                      bootstrap_timeout_ms=self.timeout_ms))
        except KafkaError as exc:
            return False, f"no broker answered: {exc!r}"
        except Exception as exc:  # noqa: BLE001 — any failure to connect means not ready
            return False, f"no broker answered: {exc!r}"
        try:
            cluster = admin.describe_cluster()
            return True, f"{len(cluster.get('brokers', []))} broker(s)"
        except Exception as exc:  # noqa: BLE001
            return False, f"metadata request failed: {exc!r}"
        finally:
            admin.close()


def group_lag(settings: Settings, group_id: str, spec: TopicSpec) -> int:
    """Records of `spec` not yet committed by `group_id`: 0 means the group has handled everything."""
    topic = physical_name(spec.name, settings.kafka_topic_prefix)
    consumer = KafkaConsumer(**client_options(settings, group_id=group_id, enable_auto_commit=False,
                                              client_id=f"{settings.service_name}-lag"))
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(partitions)
        return sum(max(0, end - (consumer.committed(tp) or 0)) for tp, end in ends.items())
    finally:
        consumer.close()


def group_positions(settings: Settings, group_id: str, spec: TopicSpec) -> tuple[dict[int, int], dict[int, int]]:
    """(end offset, offset committed by `group_id`) of each partition of `spec`, by partition number: a
    caller that noted the ends at an instant knows the group has handled everything written before it once
    every committed offset reaches them."""
    topic = physical_name(spec.name, settings.kafka_topic_prefix)
    consumer = KafkaConsumer(**client_options(settings, group_id=group_id, enable_auto_commit=False,
                                              client_id=f"{settings.service_name}-positions"))
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(partitions)
        return ({tp.partition: end for tp, end in ends.items()},
                {tp.partition: consumer.committed(tp) or 0 for tp in partitions})
    finally:
        consumer.close()
