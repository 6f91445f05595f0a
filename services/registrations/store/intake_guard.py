"""Intake's atomic bookkeeping in Redis, one Lua script per decision.

Per campaign: which application is active for each child (so a child applies once), and for
first-come campaigns the places held and the waitlist taken per offer, so the parent learns
"place held" or "waitlist n°k" at once. Per family: a submissions rate limit.

Redis is a fast copy, never the truth: the ledger is. After Redis is lost the `reg:ready` marker
is gone, intake answers 503 until the worker has rebuilt every counter from the ledger (once
the intake log is fully written to it), and capacity is never exceeded meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import redis

from services.registrations.domain.applications import CampaignTerms

READY_KEY = "reg:ready"

# A Lua function over its own KEYS and ARGV (K, A), so that intake's one-round-trip script
# (store/intake_gate.py) reserves exactly as this module's own script does.
RESERVE_LUA = """
-- K: ready, rate, active, then for each ranked offer its held and waitlist counters
-- A: application id, fcfs (1/0), rate limit, rate window s, then per offer: capacity, waitlist limit (-1 none), id
local function reserve(K, A)
  if redis.call('EXISTS', K[1]) == 0 then return {'not-ready'} end
  local used = redis.call('INCR', K[2])
  if used == 1 then redis.call('EXPIRE', K[2], A[4]) end
  if used > tonumber(A[3]) then return {'rate-limited', tostring(redis.call('TTL', K[2]))} end
  -- The active key holds "application id|hold kind|offer id|position".
  local existing = redis.call('GET', K[3])
  if existing then
    local id = string.match(existing, '^[^|]+')
    -- The same application again (a retry after an uncertain broker answer): same hold, no new count.
    if id == A[1] then return {'again', existing} end
    return {'duplicate', id}
  end
  if A[2] ~= '1' then
    redis.call('SET', K[3], A[1] .. '|none||')
    return {'none'}
  end
  local offers = (#K - 3) / 2
  for i = 0, offers - 1 do
    local held = tonumber(redis.call('GET', K[4 + 2 * i]) or '0')
    if held < tonumber(A[5 + 3 * i]) then
      redis.call('INCR', K[4 + 2 * i])
      redis.call('SET', K[3], A[1] .. '|held|' .. A[7 + 3 * i] .. '|')
      return {'held', A[7 + 3 * i], ''}
    end
  end
  for i = 0, offers - 1 do
    local limit = tonumber(A[6 + 3 * i])
    local waiting = tonumber(redis.call('GET', K[5 + 2 * i]) or '0')
    if limit < 0 or waiting < limit then
      redis.call('INCR', K[5 + 2 * i])
      redis.call('SET', K[3], A[1] .. '|waitlisted|' .. A[7 + 3 * i] .. '|' .. (waiting + 1))
      return {'waitlisted', A[7 + 3 * i], tostring(waiting + 1)}
    end
  end
  return {'full'}
end
"""

_RESERVE = RESERVE_LUA + "return reserve(KEYS, ARGV)"

_RELEASE = """
-- KEYS: active, counter (held or waitlist, '' when none), then keys to delete with it (an idempotency claim)
-- ARGV: application id
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
if string.match(redis.call('GET', KEYS[1]) or '', '^[^|]+') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if KEYS[2] ~= '' and tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
  return 1
end
return 0
"""

_LEAVE = """
-- KEYS: active, then (first-come campaigns) the offer's held and waitlist counters
-- ARGV: application id, what it had at that offer: 'place' or 'waitlist'
if string.match(redis.call('GET', KEYS[1]) or '', '^[^|]+') == ARGV[1] then redis.call('DEL', KEYS[1]) end
if #KEYS == 1 then return 1 end
local waiting = tonumber(redis.call('GET', KEYS[3]) or '0')
if ARGV[2] == 'place' then
  -- Allocation offers a freed place to the waitlist first: only with nobody waiting is it free for newcomers.
  if waiting > 0 then redis.call('DECR', KEYS[3])
  elseif tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
elseif waiting > 0 then
  redis.call('DECR', KEYS[3])
end
return 1
"""


@dataclass(frozen=True)
class Hold:
    kind: str  # "held", "waitlisted" or "none"
    offer_id: UUID | None = None
    position: int | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "offer_id": self.offer_id, "position": self.position}


class GuardNotReady(Exception):
    """Redis lost its state; the worker is rebuilding it from the ledger."""


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many submissions; retry in {retry_after} s")
        self.retry_after = retry_after


class AlreadyApplied(Exception):
    def __init__(self, application_id: str):
        super().__init__(f"this child already has application {application_id} in this campaign")
        self.application_id = application_id


class CampaignFull(Exception):
    """First-come campaign: no place and no waitlist position left at any ranked offer."""


def active_value(application_id: UUID | str, hold: dict) -> str:
    """What the active key of a child holds: the application and what intake told its parent."""
    offer = hold.get("offer_id") or ""
    position = hold.get("position")
    return f"{application_id}|{hold['kind']}|{offer}|{'' if position is None else position}"


def parse_active_value(value: str) -> Hold:
    _, kind, offer, position = value.split("|")
    return Hold(kind, UUID(offer) if offer else None, int(position) if position else None)


def active_key(campaign_id: UUID, child_id: UUID) -> str:
    return f"reg:{{{campaign_id}}}:active:{child_id}"


def held_key(campaign_id: UUID, offer_id: UUID) -> str:
    return f"reg:{{{campaign_id}}}:held:{offer_id}"


def waitlist_key(campaign_id: UUID, offer_id: UUID) -> str:
    return f"reg:{{{campaign_id}}}:wait:{offer_id}"


class IntakeGuard:
    def __init__(self, client: redis.Redis, rate_limit: int = 20, rate_window_seconds: int = 60):
        self.client = client
        self.rate_limit = rate_limit
        self.rate_window = rate_window_seconds
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)
        self._leave = client.register_script(_LEAVE)

    def reserve(self, campaign: CampaignTerms, family_account: str, child_id: UUID, application_id: UUID,
                choices: list[UUID]) -> Hold:
        keys, args = self.reservation(campaign, family_account, child_id, choices)
        return self.hold_from(self._reserve(keys=keys, args=[str(application_id), *args]))

    def reservation(self, campaign: CampaignTerms, family_account: str, child_id: UUID,
                    choices: list[UUID]) -> tuple[list[str], list]:
        """RESERVE_LUA's keys, and its arguments after the application id."""
        keys = [READY_KEY, f"reg:rate:{family_account}", active_key(campaign.campaign_id, child_id)]
        args: list = [int(campaign.first_come_first_served), self.rate_limit, self.rate_window]
        for offer_id in choices:
            offer = campaign.offers[offer_id]
            keys += [held_key(campaign.campaign_id, offer_id), waitlist_key(campaign.campaign_id, offer_id)]
            args += [offer.capacity, -1 if offer.waitlist_limit is None else offer.waitlist_limit, str(offer_id)]
        return keys, args

    @staticmethod
    def hold_from(reserved: list) -> Hold:
        """RESERVE_LUA's answer as a hold, or its refusal raised."""
        outcome, *details = reserved
        if outcome == "again":
            return parse_active_value(details[0])
        if outcome == "not-ready":
            raise GuardNotReady()
        if outcome == "rate-limited":
            raise RateLimited(max(1, int(details[0])))
        if outcome == "duplicate":
            raise AlreadyApplied(details[0])
        if outcome == "full":
            raise CampaignFull()
        if outcome == "none":
            return Hold("none")
        position = int(details[1]) if outcome == "waitlisted" else None
        return Hold(outcome, UUID(details[0]), position)

    def release(self, campaign_id: UUID, child_id: UUID, application_id: UUID, hold: Hold,
                forgetting: tuple[str, ...] = ()) -> bool:
        """Undo a reservation whose application never reached the broker; `forgetting`: keys deleted in the same
        round trip (the submission's idempotency claim)."""
        counter = ""
        if hold.kind == "held":
            counter = held_key(campaign_id, hold.offer_id)
        elif hold.kind == "waitlisted":
            counter = waitlist_key(campaign_id, hold.offer_id)
        return bool(self._release(keys=[active_key(campaign_id, child_id), counter, *forgetting],
                                  args=[str(application_id)]))

    def leave(self, campaign_id: UUID, child_id: UUID, application_id: UUID, offer_id: UUID | None = None,
              had_place: bool = False) -> None:
        """An application stopped being active (withdrawn, declined, expired, rejected): the child may apply
        again, and for first-come campaigns (`offer_id` given) the counters mirror what allocation does with
        the place or waitlist position, erring towards fewer places for newcomers, never more."""
        keys = [active_key(campaign_id, child_id)]
        if offer_id is not None:
            keys += [held_key(campaign_id, offer_id), waitlist_key(campaign_id, offer_id)]
        self._leave(keys=keys, args=[str(application_id), "place" if had_place else "waitlist"])

    def is_ready(self) -> bool:
        return bool(self.client.exists(READY_KEY))
