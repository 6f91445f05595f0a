"""Admission control for intake (OWASP API4/API6): refuse early and honestly rather than slow
down for everyone. A global per-second budget shared by every intake process, and a per-IP
budget per minute (generous: a school or a CGNAT puts many families behind one address). The
per-account limit lives in the intake guard's script, next to the holds."""
from __future__ import annotations

import time

import redis

# A Lua function, so that intake's one-round-trip script (store/intake_gate.py) counts a request the same way.
ADMIT_LUA = """
-- Counts one request; nil if admitted, else {budget, retry after s}.
local function admit(global_key, ip_key, global_limit, ip_limit, ip_window)
  local admitted = redis.call('INCR', global_key)
  if admitted == 1 then redis.call('EXPIRE', global_key, 2) end
  if admitted > tonumber(global_limit) then return {'global', '1'} end
  local from_ip = redis.call('INCR', ip_key)
  if from_ip == 1 then redis.call('EXPIRE', ip_key, ip_window) end
  if from_ip > tonumber(ip_limit) then return {'ip', tostring(redis.call('TTL', ip_key))} end
  return nil
end
"""

_ADMIT = ADMIT_LUA + """
-- KEYS: global counter of this second, counter of this IP; ARGV: global limit, IP limit, IP window s
return admit(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]) or {'ok', '0'}
"""
IP_WINDOW_SECONDS = 60


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

    def keys(self, ip: str) -> list[str]:
        """The counters a request from `ip` is counted in, now."""
        return [f"reg:admit:{int(time.time())}", f"reg:ip:{ip}"]

    def args(self) -> list:
        return [self.per_second, self.per_ip_per_minute, IP_WINDOW_SECONDS]

    def check(self, ip: str) -> None:
        outcome, retry_after = self._admit(keys=self.keys(ip), args=self.args())
        if outcome in ("global", "ip"):
            raise Overloaded(outcome, retry_after)
