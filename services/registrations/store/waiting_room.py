"""The waiting room's state in Redis, one key family per campaign (hash-tagged, so a cluster keeps a room on one
slot), changed only by the Lua scripts below: each join, each reading of a place, each admission is one atomic
step, whatever the number of intake processes. Redis keeps it through a restart with its append-only file (the
local Redis and the Kubernetes one run with `appendonly yes`).

    {wr:<campaign>}:queue      sorted set  member → score (pre-queue: its ticket in [0, 1); later: its arrival
                                           instant, 1 + 1000 × ms since the opening: `arrival_score`)
    {wr:<campaign>}:members    hash        family account → its member in the queue (one place per account)
    {wr:<campaign>}:joined     hash        member → when it joined (ms)
    {wr:<campaign>}:admitted   hash        member → when it was first seen admitted (ms): never twice
    {wr:<campaign>}:admissions sorted set  member → when admitted (ms): the managers' admitted per minute
    {wr:<campaign>}:room       hash        released (places admitted from the head), tick, carry, seq, pace,
                                           last (the last score given at the back), atick and atokens (the
                                           admissions' own meter at the pace)
    {wr:<campaign>}:arrival-ticket:<id>    a refused join's arrival ticket, honoured once (kept 11 min)
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from services.registrations.domain.waiting_room import (
    AFTER_OPENING,
    LATENCY_BUCKETS_MS,
    SLOWEST_BUCKET_MS,
    PlaceReading,
)

SECRET_KEY = "wr:secret"
LATENCY_WINDOW_SECONDS = 5

# Every script gets the room's keys in this order.
KEY_NAMES = ("queue", "members", "joined", "admitted", "admissions", "room")

_FUNCTIONS = """
-- KEYS: queue, members, joined, admitted, admissions, room

-- Where a refused family's ticket puts it: at `score`, but never ahead of a place already released from the head
-- (admitted, or about to be when its family asks): the released places are always the queue's first ranks. Nil:
-- at the back.
local function after_released(score)
  local released = tonumber(redis.call('HGET', KEYS[6], 'released') or '0')
  if released == 0 then return score end
  local last = redis.call('ZRANGE', KEYS[1], released - 1, released - 1, 'WITHSCORES')
  if #last == 0 then return nil end
  local floor = tonumber(last[2])
  if score > floor then return score end
  local head = redis.call('ZRANGE', KEYS[1], released, released, 'WITHSCORES')
  if #head == 0 then return nil end
  local between = (floor + tonumber(head[2])) / 2
  if between > floor and between < tonumber(head[2]) then return between end
  return nil
end

-- A place for the account (the one it has, unless its admission lapsed): its member in the queue, and what became
-- of the arrival ticket it presented (mode 'ticket', `ticket` its score, KEYS[7] its id: honoured once).
local function join(account, mode, ticket, now, window, ttl, arrival)
  local member = redis.call('HGET', KEYS[2], account)
  if member then
    local at = redis.call('HGET', KEYS[4], member)
    if not at or tonumber(now) < tonumber(at) + tonumber(window) then
      if mode == 'ticket' then return {member, 'kept'} end
      return {member, ''}
    end
  end
  local score, outcome = nil, ''
  if mode == 'ticket' then
    if redis.call('SET', KEYS[7], '1', 'NX', 'PX', tonumber(ARGV[11])) then
      score, outcome = after_released(tonumber(ticket)), 'honoured'
    else
      outcome = 'ignored-reused'
    end
  elseif mode == 'pre' and not member then
    score = tonumber(ticket)
  end
  local fresh = account
  if member then fresh = account .. '\\n' .. redis.call('HINCRBY', KEYS[6], 'seq', 1) end
  if not score then
    -- at the back: its arrival instant, or just after the last one when clocks of processes differ
    score = math.max(tonumber(arrival), tonumber(redis.call('HGET', KEYS[6], 'last') or '0') + 1)
    redis.call('HSET', KEYS[6], 'last', string.format('%.17g', score))
  end
  redis.call('ZADD', KEYS[1], string.format('%.17g', score), fresh)
  redis.call('HSET', KEYS[2], account, fresh)
  redis.call('HSET', KEYS[3], fresh, now)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
  redis.call('PEXPIRE', KEYS[6], ttl)
  return {fresh, outcome}
end

-- Release the places the pace allows since the last reading (at most `burst`), then read the account's place
-- ('' for none), recording its admission the first time it is read past the head and the admissions' meter has room.
-- A family left waiting also learns how many families were admitted in all and the meter's tokens in hand (a
-- fraction, as text): when the meter would have a token for it (domain.waiting_room.paced_ahead).
local function read(account, now_ms, opening, pace, burst, ttl)
  local now = tonumber(now_ms)
  opening = tonumber(opening)
  local released = tonumber(redis.call('HGET', KEYS[6], 'released') or '0')
  local total = redis.call('ZCARD', KEYS[1])
  if now >= opening then
    local tick = tonumber(redis.call('HGET', KEYS[6], 'tick') or opening)
    local carry = tonumber(redis.call('HGET', KEYS[6], 'carry') or '0')
    if now > tick then
      local gained = math.min(carry + (now - tick) * tonumber(pace) / 60000, tonumber(burst))
      local whole = math.floor(gained)
      if released + whole >= total then
        carry = math.min(gained - (total - released), 1)
        released = total
      else
        released, carry = released + whole, gained - whole
      end
      redis.call('HSET', KEYS[6], 'released', released, 'tick', now, 'carry', tostring(carry))
      redis.call('PEXPIRE', KEYS[6], ttl)
    end
  end
  if account == '' then return {-1, released, total, '', '', -1, ''} end
  local member = redis.call('HGET', KEYS[2], account)
  if not member then return {-1, released, total, '', '', -1, ''} end
  local rank = redis.call('ZRANK', KEYS[1], member)
  local admitted = redis.call('HGET', KEYS[4], member)
  local admitted_total, in_hand = -1, ''
  if not admitted and now >= opening then
    -- Admissions are metered at the pace too (at most `burst` at once): a family that learns of its release late
    -- (its polls refused, the pace raised since its last answer) is admitted when the admissions of the moment
    -- leave room, so that families released while the pace was high never reach intake together after it fell.
    local meter = redis.call('HMGET', KEYS[6], 'atick', 'atokens')
    local atick = tonumber(meter[1] or now)
    local tokens = tonumber(meter[2] or burst)
    tokens = math.min(tonumber(burst), tokens + math.max(0, now - atick) * tonumber(pace) / 60000)
    if rank < released then
      if tokens >= 1 then
        tokens = tokens - 1
        admitted = now_ms
        redis.call('HSET', KEYS[4], member, admitted)
        redis.call('ZADD', KEYS[5], now, member)
        redis.call('PEXPIRE', KEYS[4], ttl)
        redis.call('PEXPIRE', KEYS[5], ttl)
      end
      redis.call('HSET', KEYS[6], 'atick', math.max(now, atick), 'atokens', tostring(tokens))
    end
    if not admitted then admitted_total, in_hand = redis.call('HLEN', KEYS[4]), tostring(tokens) end
  end
  return {rank, released, total, admitted or '', redis.call('HGET', KEYS[3], member) or '', admitted_total, in_hand}
end
"""

# ARGV: account, 'pre'|'open'|'ticket', score (pre-queue ticket, or the arrival ticket's), now ms, admission window
# ms, time to live ms, arrival score (now's, at the back)
_JOIN = _FUNCTIONS + "return join(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[10])[1]"
# ARGV: account ('' for none), now ms, opening ms, pace per minute, burst (most places released at once), ttl ms
_READ = _FUNCTIONS + "return read(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])"
# A join answered in one step: ARGV as _JOIN's (arrival score 10th), then opening ms, pace, burst; the reading and
# what became of the arrival ticket.
_JOIN_AND_READ = _FUNCTIONS + """
local joined = join(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[10])
local reading = read(ARGV[1], ARGV[4], ARGV[7], ARGV[8], ARGV[9], ARGV[6])
table.insert(reading, joined[2])
return reading"""


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _ttl_ms(expire_at: datetime, now: datetime) -> int:
    """A time to live by the service's clock (Redis's own clock may differ)."""
    return max(60_000, _ms(expire_at) - _ms(now))


def _reading(answer: list) -> PlaceReading:
    rank, released, total, admitted, joined, admitted_total, tokens = answer[:7]
    return PlaceReading(rank=None if int(rank) < 0 else int(rank), released=int(released),
                        admitted_at=_instant(admitted), joined_at=_instant(joined),
                        waiting_total=max(0, int(total) - int(released)),
                        admitted_total=None if int(admitted_total) < 0 else int(admitted_total),
                        tokens_in_hand=float(tokens) if tokens else None)


def _instant(ms: str | bytes | None) -> datetime | None:
    if not ms:
        return None
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


@dataclass(frozen=True)
class RoomFigures:
    """What managers see: the room live."""
    joined: int
    released: int
    admitted_last_minute: int
    pace_per_minute: float | None
    oldest_waiting_since: datetime | None


class RoomStore:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self._join = client.register_script(_JOIN)
        self._read = client.register_script(_READ)
        self._join_and_read = client.register_script(_JOIN_AND_READ)

    @staticmethod
    def keys(campaign_id: str) -> dict[str, str]:
        tag = f"{{wr:{campaign_id}}}"
        return {name: f"{tag}:{name}" for name in ("queue", "members", "joined", "admitted", "admissions", "room")}

    def secret(self) -> bytes:
        """The signing secret when no setting names one: drawn once, shared by every process through Redis."""
        self.redis.set(SECRET_KEY, secrets.token_hex(32), nx=True)
        return bytes.fromhex(_text(self.redis.get(SECRET_KEY)))

    def _keys(self, campaign_id: str) -> list[str]:
        k = self.keys(campaign_id)
        return [k[name] for name in KEY_NAMES]

    def join(self, campaign_id: str, family_account: str, pre_queue: bool, ticket: float, now: datetime,
             admission_window_ms: int, expire_at: datetime, arrival: float = AFTER_OPENING) -> str:
        """`expire_at`: when the room's keys go (some days after the campaign's close); `arrival`: the score of a
        family arriving now, after the opening (`domain.waiting_room.arrival_score`)."""
        member = self._join(keys=self._keys(campaign_id),
                            args=[family_account, "pre" if pre_queue else "open", repr(ticket), _ms(now),
                                  admission_window_ms, _ttl_ms(expire_at, now), "", "", "", repr(arrival)])
        return _text(member)

    def read(self, campaign_id: str, family_account: str | None, now: datetime, opens_at: datetime,
             pace_per_minute: float, burst: float, expire_at: datetime) -> PlaceReading:
        """Release the places the pace allows since the last reading, then read the family's place (its
        admission recorded the first time it is read past the head)."""
        return _reading(self._read(keys=self._keys(campaign_id),
                                   args=[family_account or "", _ms(now), _ms(opens_at), repr(float(pace_per_minute)),
                                         repr(float(burst)), _ttl_ms(expire_at, now)]))

    def join_and_read(self, campaign_id: str, family_account: str, pre_queue: bool, ticket: float, now: datetime,
                      admission_window_ms: int, opens_at: datetime, pace_per_minute: float, burst: float,
                      expire_at: datetime, arrival: float = AFTER_OPENING,
                      honoured: tuple[str, float, int] | None = None) -> tuple[PlaceReading, str]:
        """`join` then `read`, in one script call: a join is the crowd's most frequent request at an opening.
        `honoured`: a refused join's arrival ticket (its id, its score, how long to remember it is spent: as long as
        it or one given again after it may be presented), placed there once; the second value says
        what became of it ('' without one, 'honoured', 'kept' when the family had a place, 'ignored-reused')."""
        keys = self._keys(campaign_id)
        mode, score, kept_ms = ("pre" if pre_queue else "open"), ticket, 0
        if honoured is not None:
            keys.append(f"{{wr:{campaign_id}}}:arrival-ticket:{honoured[0]}")
            mode, score, kept_ms = "ticket", honoured[1], honoured[2]
        answer = self._join_and_read(
            keys=keys, args=[family_account, mode, repr(score), _ms(now), admission_window_ms,
                             _ttl_ms(expire_at, now), _ms(opens_at), repr(float(pace_per_minute)),
                             repr(float(burst)), repr(arrival), kept_ms])
        return _reading(answer), _text(answer[7])

    def pace(self, campaign_id: str) -> float | None:
        raw = self.redis.hget(self.keys(campaign_id)["room"], "pace")
        return float(raw) if raw is not None else None

    def claim_control(self, campaign_id: str, window: int) -> bool:
        """True for the one process that adjusts this room's pace in this control window."""
        return bool(self.redis.set(f"{{wr:{campaign_id}}}:control:{window}", 1, nx=True,
                                   ex=LATENCY_WINDOW_SECONDS * 4))

    def set_pace(self, campaign_id: str, pace_per_minute: float) -> None:
        self.redis.hset(self.keys(campaign_id)["room"], "pace", repr(pace_per_minute))

    def figures(self, campaign_id: str, now: datetime) -> RoomFigures:
        k = self.keys(campaign_id)
        pipeline = self.redis.pipeline(transaction=False)
        pipeline.zcard(k["queue"])
        pipeline.hget(k["room"], "released")
        pipeline.zcount(k["admissions"], _ms(now) - 60_000, "+inf")
        pipeline.hget(k["room"], "pace")
        joined, released, last_minute, pace = pipeline.execute()
        released = int(released or 0)
        head = self.redis.zrange(k["queue"], released, released)
        oldest = _instant(self.redis.hget(k["joined"], head[0])) if head else None
        return RoomFigures(int(joined), released, int(last_minute), float(pace) if pace is not None else None,
                           oldest)

    def queue_order(self, campaign_id: str) -> list[str]:
        """Every member, head first (the published draw's order; the tests' check)."""
        return [_text(m) for m in self.redis.zrange(self.keys(campaign_id)["queue"], 0, -1)]


class IntakeLatency:
    """Intake's measured latency, a histogram per 5-second window shared by every process (one pipelined round
    trip per submission), read by the pace controller."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    @staticmethod
    def key(window: int) -> str:
        return f"reg:intake:latency:{window}"

    def record(self, window: int, bucket_ms: int) -> None:
        pipeline = self.redis.pipeline(transaction=False)
        pipeline.hincrby(self.key(window), str(bucket_ms), 1)
        pipeline.expire(self.key(window), LATENCY_WINDOW_SECONDS * 6)
        pipeline.execute()

    def histogram(self, window: int) -> dict[int, int]:
        raw = self.redis.hgetall(self.key(window))
        known = set(LATENCY_BUCKETS_MS) | {SLOWEST_BUCKET_MS}
        return {int(bound): int(count) for bound, count in raw.items() if int(bound) in known}


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
