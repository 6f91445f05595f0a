"""The shared consumer loop against the real broker: retries, dead letters, commits, batches."""
import threading
import time
import uuid
from typing import Any

from kafka import KafkaConsumer

from shared.kafka import ConsumerLoop, JsonDeserializer, Producer, RetryPolicy, ensure_topics
from shared.topics import TopicSpec, physical_name


def drain(settings, topic: str, expected: int, timeout_ms: int = 10_000) -> list:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=timeout_ms,
                             value_deserializer=JsonDeserializer())
    consumer.subscribe([physical_name(topic, settings.kafka_topic_prefix)])
    records = []
    for record in consumer:
        records.append(record)
        if len(records) >= expected:
            break
    consumer.close()
    return records


def test_poison_record_goes_to_dead_letter_and_the_rest_is_handled(make_settings):
    settings = make_settings("loop-test")
    spec = TopicSpec("loop-" + uuid.uuid4().hex[:6], 1, "test")
    ensure_topics(settings, [spec])
    producer = Producer(settings)
    for value in [{"n": 1}, {"n": "poison"}, {"n": 3}]:
        producer.publish(spec.name, "k", value)
    producer.close()

    handled, attempts = [], []

    def handler(record):
        attempts.append(record.value["n"])
        if record.value["n"] == "poison":
            raise ValueError("cannot handle")
        handled.append(record.value["n"])

    loop = ConsumerLoop(settings, f"g-{uuid.uuid4().hex[:6]}", [spec], handler=handler,
                        retry=RetryPolicy(max_attempts=3, first_backoff_s=0.01))
    loop.run(poll_timeout_ms=200, until=lambda: len(handled) >= 2)

    assert handled == [1, 3]
    assert attempts.count("poison") == 3
    dead = drain(settings, spec.dead_letter, expected=1)
    assert [r.value for r in dead] == [{"n": "poison"}]
    headers = dict(dead[0].headers)
    assert headers["dlt.original-offset"] == b"1"
    assert b"cannot handle" in headers["dlt.error"]


def numbered_records(settings, name: str, *, partitions: int, count: int, keys: int) -> TopicSpec:
    """A new topic holding records {"n": 0..count-1}, keyed key-<n % keys>."""
    spec = TopicSpec(name + uuid.uuid4().hex[:6], partitions, "test")
    ensure_topics(settings, [spec])
    producer = Producer(settings)
    for n in range(count):
        producer.send(spec.name, f"key-{n % keys}", {"n": n})
    producer.flush()
    producer.close()
    return spec


def test_batches_are_handled_together_and_offsets_committed(make_settings):
    settings = make_settings("loop-test")
    spec = numbered_records(settings, "batch-", partitions=2, count=50, keys=5)

    batches: list[list[int]] = []
    group = f"g-{uuid.uuid4().hex[:6]}"
    loop = ConsumerLoop(settings, group, [spec], handler=lambda r: batches.append([r.value["n"]]),
                        batch_handler=lambda records: batches.append([r.value["n"] for r in records]))
    loop.run(poll_timeout_ms=300, until=lambda: sum(map(len, batches)) >= 50)
    assert sorted(n for batch in batches for n in batch) == list(range(50))
    assert any(len(batch) > 1 for batch in batches)

    # A new loop in the same group has nothing left to read: every offset was committed.
    seen = []
    again = ConsumerLoop(settings, group, [spec], handler=lambda r: seen.append(r))
    rounds = iter(range(6))
    again.run(poll_timeout_ms=300, until=lambda: next(rounds, None) is None)
    assert seen == []


def test_a_poll_across_partitions_is_one_batch_and_a_failing_one_is_taken_partition_by_partition(make_settings):
    settings = make_settings("loop-test")
    spec = numbered_records(settings, "across-", partitions=3, count=60, keys=6)

    def run(batch_handler):
        batches: list[list[Any]] = []

        def handle(records):
            batch_handler(records)
            batches.append(records)
        loop = ConsumerLoop(settings, f"g-{uuid.uuid4().hex[:6]}", [spec], handler=lambda r: handle([r]),
                            batch_handler=handle, across_partitions=True)
        loop.run(poll_timeout_ms=300, until=lambda: sum(map(len, batches)) >= 60)
        return batches

    together = run(lambda records: None)
    assert sorted(r.value["n"] for batch in together for r in batch) == list(range(60))
    assert any(len({r.partition for r in batch}) > 1 for batch in together)
    for batch in together:  # each key's records in their order, whatever else shares the batch
        for key in {r.key for r in batch}:
            numbers = [r.value["n"] for r in batch if r.key == key]
            assert numbers == sorted(numbers)

    def refuse_mixed(records):
        if len({r.partition for r in records}) > 1:
            raise RuntimeError("one partition at a time")
    apart = run(refuse_mixed)
    assert sorted(r.value["n"] for batch in apart for r in batch) == list(range(60))  # each once
    assert all(len({r.partition for r in batch}) == 1 for batch in apart)


def test_a_loop_started_before_its_topic_exists_handles_it_once_created(make_settings):
    # As when a worker starts while provisioning is still under way: it must not stay idle.
    settings = make_settings("loop-test")
    spec = TopicSpec("late-" + uuid.uuid4().hex[:6], 2, "test")
    handled = []
    loop = ConsumerLoop(settings, f"g-{uuid.uuid4().hex[:6]}", [spec], handler=lambda r: handled.append(r.value["n"]))
    runner = threading.Thread(target=loop.run, kwargs={"poll_timeout_ms": 200, "until": lambda: len(handled) >= 4},
                              daemon=True)
    runner.start()
    time.sleep(1.0)
    ensure_topics(settings, [spec])
    producer = Producer(settings)
    for n in range(4):
        producer.send(spec.name, f"key-{n}", {"n": n})
    producer.flush()
    producer.close()
    runner.join(timeout=30)
    loop.stop()
    assert sorted(handled) == [0, 1, 2, 3]
