"""Redis connections with timeouts short enough that a lost Redis is an error, not a hang."""
from __future__ import annotations

import redis

from shared.config import Settings


def make_redis(settings: Settings, **overrides) -> redis.Redis:
    options = dict(
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=15,
        retry_on_timeout=False,
        decode_responses=True,
    )
    options.update(overrides)
    return redis.Redis.from_url(settings.redis_url, **options)
