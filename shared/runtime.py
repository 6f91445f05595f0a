"""The connections one service process holds, created once per process (after gunicorn forks)."""
from __future__ import annotations

import threading
from functools import cached_property

from sqlalchemy import Engine

from shared.config import Settings
from shared.db import make_engine
from shared.health import Check, database_check, redis_check
from shared.kafka import KafkaProbe, Producer
from shared.redis_client import make_redis


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._producer_lock = threading.Lock()
        self._producer: Producer | None = None
        self._request_producer: Producer | None = None

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings)

    @cached_property
    def redis(self):
        return make_redis(self.settings)

    @cached_property
    def kafka_probe(self) -> KafkaProbe:
        return KafkaProbe(self.settings)

    @property
    def producer(self) -> Producer:
        # Created on first use, never at import: a producer's sender thread does not survive fork.
        with self._producer_lock:
            if self._producer is None:
                self._producer = Producer(self.settings)
            return self._producer

    @property
    def request_producer(self) -> Producer:
        """For a record sent while a request waits (intake): uncompressed. Such records mostly travel
        one per batch, which compression does not shrink but makes the sender pay for (~0.3 ms a
        request, docs/PERFORMANCE.md "Intake tuning"); the relays' batches of thousands keep it.
        Without kafka-python's own metrics: nothing reads them, and their sensors, recorded by the sender
        thread for every produce request and response, cost it 0.05-0.15 ms a record in a process of its
        own, where records travel one per batch (docs/PERFORMANCE.md, "Intake under gunicorn's threads")."""
        with self._producer_lock:
            if self._request_producer is None:
                self._request_producer = Producer(self.settings, compression_type=None, batch_size=16_384,
                                                  metrics_enabled=False)
            return self._request_producer

    def readiness_checks(self) -> dict[str, Check]:
        return {"database": database_check(self.engine), "kafka": self.kafka_probe, "redis": redis_check(self.redis)}

    def close(self) -> None:
        for producer in (self._producer, self._request_producer):
            if producer is not None:
                producer.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()
