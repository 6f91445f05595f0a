"""Admission control for intake (OWASP API4/API6): refuse early and honestly rather than slow
down for everyone. A global per-second budget shared by every intake process, and a per-IP
budget per minute (generous: a school or a CGNAT puts many families behind one address). The
per-account limit lives in the intake guard's script, next to the holds."""
from __future__ import annotations

import functools
import time
from typing import Any, Callable

import redis
from flask import request

from shared.errors import Problem

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


class Overloaded(Problem):
    status, code, title = 429, "too-many-requests", "Too many requests"


class Admission:
    def __init__(self, client: redis.Redis, per_second: int, per_ip_per_minute: int):
        self.per_second = per_second
        self.per_ip_per_minute = per_ip_per_minute
        self._admit = client.register_script(_ADMIT)

    def check(self, ip: str) -> None:
        second = int(time.time())
        outcome, retry_after = self._admit(keys=[f"reg:admit:{second}", f"reg:ip:{ip}"],
                                           args=[self.per_second, self.per_ip_per_minute, 60])
        if outcome == "global":
            raise Overloaded("Guichet is taking as many applications as it can right now; retry in a second. "
                             "Nothing was recorded.", code="intake-busy", headers={"Retry-After": retry_after},
                             retry_after=int(retry_after))
        if outcome == "ip":
            raise Overloaded("Too many submissions from this network; retry shortly.", code="ip-rate-limited",
                             headers={"Retry-After": retry_after}, retry_after=int(retry_after))


def admitted(admission: Callable[[], Admission]) -> Callable:
    """View decorator, outermost: overload is refused before any other work."""
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            admission().check(request.remote_addr or "unknown")
            return view(*args, **kwargs)
        return wrapper
    return decorator
