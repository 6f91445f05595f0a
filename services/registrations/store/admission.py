"""Admission control for intake (OWASP API4/API6): refuse early and honestly rather than slow
down for everyone. A global per-second budget shared by every intake process, and a per-IP
budget per minute (generous: a school or a CGNAT puts many families behind one address). The
per-account limit lives in the intake guard's script, next to the holds."""
from __future__ import annotations

import time

import redis

_ADMIT = """
-- KEYS: global counter of this second, counter of this IP; ARGV: global limit, IP limit, IP window s
local admitted = redis.call('INCR', KEYS[1])
if admitted == 1 then redis.call('EXPIRE', KEYS[1], 2) end
if admitted > tonumber(ARGV[1]) then return {'global', '1'} end
local from_ip = redis.call('INCR', KEYS[2])
if from_ip == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if from_ip > tonumber(ARGV[2]) then return {'ip', tostring(redis.call('TTL', KEYS[2]))} end
return {'ok', '0'}
"""


class Overloaded(Exception):
    """Over a budget: `budget` is "global" (every intake process, this second) or "ip" (this address)."""

    def __init__(self, budget: str, retry_after: str):
        super().__init__(f"over the {budget} admission budget; retry in {retry_after} s")
        self.budget, self.retry_after = budget, retry_after


class Admission:
    def __init__(self, client: redis.Redis, per_second: int, per_ip_per_minute: int):
        self.per_second = per_second
        self.per_ip_per_minute = per_ip_per_minute
        self._admit = client.register_script(_ADMIT)

    def check(self, ip: str) -> None:
        second = int(time.time())
        outcome, retry_after = self._admit(keys=[f"reg:admit:{second}", f"reg:ip:{ip}"],
                                           args=[self.per_second, self.per_ip_per_minute, 60])
        if outcome in ("global", "ip"):
            raise Overloaded(outcome, retry_after)
