"""A JSON document read through two caches: this process's memory for about a second, then Redis
for a few seconds, then whoever builds it (the database). A refresh storm at 00:01 then costs one
database read per process per second, whatever the number of readers.

Freshness follows the injected clock: a document says until when it is valid (its builder may
cut that short, e.g. at a window's instant), and both layers honour it. Redis's own expiry only
clears old copies away. A write calls `invalidate`; another process's memory copy may still
serve for up to `memory_seconds`, and a read that raced the write may put the older copy back
for one lifetime: staleness is bounded by the TTL, never longer.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from prometheus_client import Counter

from shared.clock import Clock

log = logging.getLogger(__name__)

CACHE_READS = Counter("guichet_campaigns_cache_reads_total",
                      "Cached documents read, by cache and by the layer that served them (memory, redis, database)",
                      ["cache", "served_from"])


@dataclass(frozen=True)
class CachedDocument:
    body: Any  # JSON-ready
    valid_until: datetime


@dataclass(frozen=True)
class _InMemory:
    document: CachedDocument
    fresh_until: datetime


class LayeredCache:
    def __init__(self, client: redis.Redis, key: str, *, clock: Clock, memory_seconds: float = 1.0):
        self.client = client
        self.key = key
        self.clock = clock
        self.memory_for = timedelta(seconds=memory_seconds)
        self._memory: _InMemory | None = None
        # One rebuild at a time in this process; the others wait for it and read its result.
        self._rebuilding = threading.Lock()

    def get(self, build: Callable[[datetime], CachedDocument]) -> CachedDocument:
        document = self._from_memory(self.clock())
        if document is not None:
            return document
        with self._rebuilding:
            now = self.clock()
            document = self._from_memory(now)
            if document is not None:
                return document
            document = self._from_redis(now)
            if document is None:
                document = build(now)
                self._to_redis(document, now)
                self._count("database")
            self._memory = _InMemory(document, min(document.valid_until, now + self.memory_for))
        return document

    def invalidate(self) -> None:
        self._memory = None
        try:
            self.client.delete(self.key)
        except redis.RedisError:
            log.warning("cache invalidation failed; the copy expires on its own", extra={"key": self.key})

    def _from_memory(self, now: datetime) -> CachedDocument | None:
        kept = self._memory
        if kept is None or now >= kept.fresh_until:
            return None
        self._count("memory")
        return kept.document

    def _from_redis(self, now: datetime) -> CachedDocument | None:
        try:
            raw = self.client.get(self.key)
        except redis.RedisError:
            log.warning("cache read failed; reading the database", extra={"key": self.key})
            return None
        if raw is None:
            return None
        stored = json.loads(raw)
        document = CachedDocument(stored["body"], datetime.fromisoformat(stored["valid_until"]))
        if now >= document.valid_until:
            return None
        self._count("redis")
        return document

    def _to_redis(self, document: CachedDocument, now: datetime) -> None:
        lifetime_ms = max(1, int((document.valid_until - now).total_seconds() * 1000))
        payload = json.dumps({"valid_until": document.valid_until.isoformat(), "body": document.body})
        try:
            self.client.set(self.key, payload, px=lifetime_ms)
        except redis.RedisError:
            log.warning("cache write failed", extra={"key": self.key})

    def _count(self, served_from: str) -> None:
        CACHE_READS.labels(self.key, served_from).inc()
