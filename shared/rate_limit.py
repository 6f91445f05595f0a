"""Per-client request budgets in Redis, shared by every process of a service: the in-app second line behind the
edge's limits (the ingress' limit-rps, nginx's limit_req locally) on the endpoints anyone may call without a
token (the public listing, the draw files).

A fixed window per client address: INCR, EXPIRE on the first hit, one round trip. Registrations' intake has
its own script (services/registrations/store/admission.py) that checks a global budget and the address's in
the same round trip, on the surge path; this is the same counting for one budget.

Redis away: the request is let through (logged). The edge still limits, and a public page that answers is
worth more than a limit that cannot be counted.
"""
from __future__ import annotations

import logging
import time

import redis

log = logging.getLogger(__name__)

_COUNT = """
-- KEYS: this client's counter for this window; ARGV: limit, window seconds
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if used > tonumber(ARGV[1]) then return redis.call('TTL', KEYS[1]) end
return -1
"""


class OverBudget(Exception):
    """Over the client's budget for the window: retry after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"over the request budget; retry in {retry_after} s")
        self.retry_after = max(1, retry_after)


class ClientBudget:
    """At most `limit` requests per `window_seconds` per client, across every process that shares `client`."""

    def __init__(self, client: redis.Redis, name: str, limit: int, window_seconds: int = 60):
        self.name, self.limit, self.window_seconds = name, limit, window_seconds
        self._count = client.register_script(_COUNT)

    def check(self, client_id: str) -> None:
        window = int(time.time()) // self.window_seconds
        try:
            retry_after = int(self._count(keys=[f"rl:{self.name}:{window}:{client_id}"],
                                          args=[self.limit, self.window_seconds]))
        except redis.RedisError as error:
            log.warning("request budget not counted", extra={"budget": self.name, "error": type(error).__name__})
            return
        if retry_after >= 0:
            raise OverBudget(retry_after)
