"""The producer intake's requests wait on keeps no kafka-python metrics (their sensors cost its sender thread
CPU for every record, and nothing reads them); the relays' producer keeps them. Both still deliver."""
from shared.kafka import ensure_topics
from shared.runtime import Runtime
from shared.topics import APPLICATION_SUBMISSIONS


def test_intake_request_producer_records_no_client_metrics_and_still_delivers(make_settings):
    settings = make_settings("registrations")
    ensure_topics(settings, [APPLICATION_SUBMISSIONS], with_dead_letters=False)
    runtime = Runtime(settings)
    try:
        request_producer, relay_producer = runtime.request_producer, runtime.producer
        assert request_producer.current.metrics() is None  # kafka-python's answer when it keeps none
        assert relay_producer.current.metrics()["producer-metrics"]
        for producer in (request_producer, relay_producer):
            acknowledged = producer.send(APPLICATION_SUBMISSIONS.name, "family", {"n": 1})
            assert acknowledged.get(timeout=30).offset >= 0
    finally:
        runtime.close()
