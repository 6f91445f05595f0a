"""Intake's Redis work for one submission in one round trip, and its refusals in one more at most.

Before the record is sent, one script: the household copy intake holds in memory is still the one in
Redis (else the current document comes back and the submission is checked again), admission counts the
request (store/admission.py's budgets), the Idempotency-Key's stored answer comes back if there is one,
the application id is drawn for (family, key), the guard reserves (store/intake_guard.py), and only if
it did is the key claimed and the campaign's next arrival number taken (the ledger's arrival order: records
of one campaign travel in several partitions, so the order is decided here, where the holds are). After the
broker's acknowledgement, one pipeline: the pending marker and the idempotency record. A request refused before the script (no credentials, a bad body, a closed window)
is still counted by admission, and meets its key's stored answer, in one script (`refused`).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
import redis

from services.registrations.domain.applications import CampaignTerms
from services.registrations.store.admission import ADMIT_LUA, Admission, Overloaded
from services.registrations.store.household_cache import cache_key
from services.registrations.store.intake_guard import RESERVE_LUA, Hold, IntakeGuard
from services.registrations.store.pending import PENDING_SECONDS, pending_key
from shared.idempotency import IdempotencyStore, StoredResponse, done_record, in_flight_marker, replay_of

log = logging.getLogger(__name__)

# Application ids are drawn by the server at random (the lottery hashes them: a client choosing its
# Idempotency-Key must not choose its number). The first attempt keeps (family account, key) → id in Redis
# for as long as keys are replayed, so a retry of the same submission is the same application and an answer
# lost between the broker and the parent is settled by retrying.
APPLICATION_ID_SECONDS = 2 * 24 * 3600  # longer than an Idempotency-Key is replayed (shared.idempotency)

_ENTER = ADMIT_LUA + RESERVE_LUA + """
-- KEYS: 1 household document, 2-3 admission counters, 4 idempotency record, 5 application id of (family, key),
--       6 the campaign's arrival sequence, 7.. the guard's keys (RESERVE_LUA's K)
-- ARGV: 1 household digest, 2-4 admission limits and window, 5 in-flight marker, 6 its lifetime s,
--       7 a fresh application id, 8 its lifetime s, 9.. the guard's arguments after the application id
local household = redis.call('GET', KEYS[1])
if not household then return {'household'} end
if redis.sha1hex(household) ~= ARGV[1] then return {'household', household} end
local refused = admit(KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4])
if refused then return {'admission', refused[1], refused[2]} end
local stored = redis.call('GET', KEYS[4])
if stored then return {'stored', stored} end
redis.call('SET', KEYS[5], ARGV[7], 'NX', 'EX', ARGV[8])
local application_id = redis.call('GET', KEYS[5])
local guard_keys, guard_args = {}, {application_id}
for i = 7, #KEYS do guard_keys[#guard_keys + 1] = KEYS[i] end
for i = 9, #ARGV do guard_args[#guard_args + 1] = ARGV[i] end
local hold = reserve(guard_keys, guard_args)
local outcome = hold[1]
local arrival = ''
if outcome == 'none' or outcome == 'held' or outcome == 'waitlisted' or outcome == 'again' then
  redis.call('SET', KEYS[4], ARGV[5], 'EX', ARGV[6])
  -- In the same script as the hold: arrival numbers follow the order in which places were held.
  arrival = redis.call('INCR', KEYS[6])
end
return {'reserved', application_id, arrival, unpack(hold)}
"""

_REFUSED = ADMIT_LUA + """
-- KEYS: 1-2 admission counters, 3 the idempotency record (absent when the request has no scope or key)
-- ARGV: admission limits and window
local refused = admit(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
if refused then return {'admission', refused[1], refused[2]} end
if KEYS[3] then
  local stored = redis.call('GET', KEYS[3])
  if stored then return {'stored', stored} end
end
return {'refused'}
"""


# Two SETs in one script: redis-py's pipeline machinery costs more of the request's CPU than a script call.
_ACKNOWLEDGED = """
-- KEYS: the idempotency record, the pending marker (absent: none); ARGV: record, its lifetime s, marker, its lifetime s
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4]) end
return 1
"""


@dataclass
class Entry:
    """One submission's request, as intake's Redis work needs it: `counted` once admission counted it,
    `claimed` while its key is taken."""
    ip: str
    idempotency_scope: str
    idempotency_key: str
    fingerprint: str
    counted: bool = False
    claimed: bool = False
    application_id: UUID | None = None
    arrival_number: int | None = None
    pending: dict[str, Any] | None = None  # the pending marker's data, once the broker acknowledged


class Replay(Exception):
    """The key already has an answer: replay it (raised instead of running the submission again)."""

    def __init__(self, response: StoredResponse):
        super().__init__("replayed")
        self.response = response


@dataclass(frozen=True)
class HouseholdChanged:
    """The household copy was not Redis's: `document` is Redis's (None: no document)."""
    document: str | bytes | None


@dataclass(frozen=True)
class Reserved:
    application_id: UUID
    hold: Hold
    arrival_number: int


class IntakeGate:
    def __init__(self, client: redis.Redis, admission: Admission, idempotency: IdempotencyStore, guard: IntakeGuard):
        self.client = client
        self.admission = admission
        self.idempotency = idempotency
        self.guard = guard
        self._enter = client.register_script(_ENTER)
        self._refused = client.register_script(_REFUSED)
        self._acknowledged = client.register_script(_ACKNOWLEDGED)

    def enter(self, entry: Entry, household_digest: str, family_account: str, campaign: CampaignTerms,
              child_id: UUID, choices: list[UUID], fresh_application_id: UUID) -> Reserved | HouseholdChanged:
        """Raises Overloaded, Replay (or the key's 409/422), and the guard's refusals."""
        guard_keys, guard_args = self.guard.reservation(campaign, family_account, child_id, choices)
        keys = [cache_key(family_account), *self.admission.keys(entry.ip), self._record_key(entry),
                application_id_key(family_account, entry.idempotency_key), arrival_sequence_key(campaign.campaign_id),
                *guard_keys]
        args = [household_digest, *self.admission.args(), in_flight_marker(entry.fingerprint),
                self.idempotency.in_flight_ttl, str(fresh_application_id), APPLICATION_ID_SECONDS, *guard_args]
        outcome, *details = self._enter(keys=keys, args=args)
        if outcome == "household":
            return HouseholdChanged(details[0] if details else None)
        entry.counted = True
        self._raise_unless_served(outcome, details, entry.fingerprint)
        application_id, arrival_number, *reserved = details
        hold = self.guard.hold_from(reserved)  # raises the guard's refusals
        entry.claimed = True
        entry.application_id = UUID(application_id)
        entry.arrival_number = int(arrival_number)
        return Reserved(entry.application_id, hold, entry.arrival_number)

    def refused(self, ip: str, entry: Entry | None) -> None:
        """A request refused before `enter`: counted by admission (Overloaded beats the refusal) and, if its key
        already has an answer, Replay (or the key's 409/422) as if the key had been checked first."""
        keys = self.admission.keys(ip) + ([self._record_key(entry)] if entry is not None else [])
        outcome, *details = self._refused(keys=keys, args=self.admission.args())
        self._raise_unless_served(outcome, details, entry.fingerprint if entry is not None else "")

    def give_back(self, entry: Entry, campaign_id: UUID, child_id: UUID, hold: Hold) -> None:
        """The record never left this process: the hold and the key's claim are given back, one round trip."""
        self.guard.release(campaign_id, child_id, entry.application_id, hold, forgetting=(self._record_key(entry),))
        entry.claimed = False

    def abandon(self, entry: Entry) -> None:
        """The answer is not a 2xx: a retry with the key runs again."""
        if entry.claimed:
            self.client.delete(self._record_key(entry))
            entry.claimed = False

    def acknowledged(self, entry: Entry, response: StoredResponse) -> None:
        """After the broker's acknowledgement: the pending marker and the key's answer, one round trip. A
        failure is logged, never raised: the application is kept, the answer must say so."""
        keys = [self._record_key(entry)]
        args = [done_record(entry.fingerprint, response), self.idempotency.ttl]
        if entry.pending is not None:
            keys.append(pending_key(entry.application_id))
            args += [orjson.dumps(entry.pending), PENDING_SECONDS]
        try:
            self._acknowledged(keys=keys, args=args)
        except redis.RedisError:
            # The status page shows the application once in the ledger; a retry meets the in-flight marker until
            # it expires, then the guard (same application).
            log.warning("pending marker or idempotency record not written",
                        extra={"application_id": str(entry.application_id)})

    def _record_key(self, entry: Entry) -> str:
        return self.idempotency.redis_key(entry.idempotency_scope, entry.idempotency_key)

    @staticmethod
    def _raise_unless_served(outcome: str, details: list, fingerprint: str) -> None:
        if outcome == "admission":
            raise Overloaded(details[0], details[1])
        if outcome == "stored":
            raise Replay(replay_of(details[0], fingerprint))


def application_id_key(family_account: str, idempotency_key: str) -> str:
    """Where the id drawn for (family, key) is kept: a hash, so that keys are not readable in Redis."""
    scope = hashlib.sha256(f"{family_account}\n{idempotency_key}".encode()).hexdigest()
    return f"intake:application-id:{scope}"


def arrival_sequence_key(campaign_id: UUID) -> str:
    """The campaign's last arrival number given (an INCR per submission admitted and claimed). Kept by Redis's
    append-only file like the guard; if lost, the guard's rebuild sets it back above the ledger's highest
    position (store/guard_rebuild.py), so a number is never given twice."""
    return f"reg:{{{campaign_id}}}:arrivals"
