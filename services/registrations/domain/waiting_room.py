"""The waiting room in front of intake, as plain rules: when a campaign's room is open, the order of its queue
(the pre-queue drawn at random from a committed seed, then first come first served), the pace at which it admits
families, the controller that adapts that pace to intake's measured latency, what a waiting family is told, and
the signed admission token intake asks for. No I/O here: the Redis adapter is `store/waiting_room.py`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# A family's ticket in the pre-queue is a 52-bit fraction of HMAC-SHA256(seed, family account): exact in a double
# (Redis sorted-set scores), below 1. Families arriving after the opening get 1 + their arrival instant
# (`arrival_score`, at the end of this module with the arrival tickets of refused joins).
TICKET_HEX_DIGITS = 13
AFTER_OPENING = 1.0


@dataclass(frozen=True)
class RoomTerms:
    """A campaign's room, as its manager set it (campaigns' `waiting_room` field)."""
    enabled: bool
    opens_before: timedelta  # the pre-queue opens this long before the campaign's opening
    admissions_per_minute: int  # the configured pace: the controller's ceiling


class Phase(StrEnum):
    NOT_YET = "not_yet"  # before the pre-queue opens: nothing to join
    PRE_QUEUE = "pre_queue"  # joining, the order is drawn at the opening
    OPEN = "open"  # admitting; late arrivals queue in arrival order
    CLOSED = "closed"  # the campaign's window has closed


def phase(terms: RoomTerms, opens_at: datetime, closes_at: datetime, now: datetime) -> Phase:
    if now >= closes_at:
        return Phase.CLOSED
    if now >= opens_at:
        return Phase.OPEN
    if now >= opens_at - terms.opens_before:
        return Phase.PRE_QUEUE
    return Phase.NOT_YET


def room_seed(secret: bytes, campaign_id: str) -> bytes:
    """The room's seed: derived from the service's secret, so it is never lost with Redis, unknown to anyone
    before the opening, committed to in advance by `commitment` and published after the opening."""
    return hmac.new(secret, f"guichet-waiting-room\n{campaign_id}".encode(), hashlib.sha256).digest()


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def ticket(seed: bytes, family_account: str) -> float:
    """The family's place in the pre-queue's draw, in [0, 1): anyone holding the published seed recomputes it."""
    digest = hmac.new(seed, family_account.encode(), hashlib.sha256).hexdigest()
    return int(digest[:TICKET_HEX_DIGITS], 16) / 16 ** TICKET_HEX_DIGITS


# --- the pace and its controller -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaceLimits:
    """What the controller may do. The pace never goes above the campaign's configured pace (its ceiling) nor
    below `floor_share` of it; it falls by `decrease` when intake's p95 exceeds `target_p95_ms`, climbs by
    `increase_share` of the ceiling per interval when p95 is under half the target (or too few submissions
    were measured to tell), and holds in between."""
    target_p95_ms: float = 300.0
    decrease: float = 0.7
    increase_share: float = 0.1
    floor_share: float = 0.1
    min_samples: int = 20


def next_pace(current: float, ceiling: int, p95_ms: float | None, samples: int, limits: PaceLimits = PaceLimits()) -> float:
    floor = max(1.0, ceiling * limits.floor_share)
    if samples >= limits.min_samples and p95_ms is not None and p95_ms > limits.target_p95_ms:
        proposed = current * limits.decrease
    elif samples < limits.min_samples or p95_ms is None or p95_ms <= limits.target_p95_ms / 2:
        proposed = current + ceiling * limits.increase_share
    else:
        proposed = current
    return round(min(float(ceiling), max(floor, proposed)), 3)


# Upper bounds (ms) of intake's latency histogram; the last bucket is everything slower.
LATENCY_BUCKETS_MS = (10, 25, 50, 100, 200, 300, 500, 1000, 2000, 5000)
SLOWEST_BUCKET_MS = 10_000


def latency_bucket(milliseconds: float) -> int:
    for bound in LATENCY_BUCKETS_MS:
        if milliseconds <= bound:
            return bound
    return SLOWEST_BUCKET_MS


def submission_bucket(milliseconds: float, shed: bool) -> int:
    """An admitted family's submission as the controller counts it: its latency as the family saw it, and a
    submission intake shed (503 intake-saturated, asked to come back) in the slowest bucket: that family waits at
    least the Retry-After, far beyond any target, so sheds above 5 % of a window put its p95 over the target."""
    return SLOWEST_BUCKET_MS if shed else latency_bucket(milliseconds)


def percentile(histogram: dict[int, int], quantile: float) -> tuple[float | None, int]:
    """(the quantile's bucket bound — an upper estimate —, how many samples) of a latency histogram."""
    total = sum(histogram.values())
    if total == 0:
        return None, 0
    needed, seen = math.ceil(quantile * total), 0
    for bound in sorted(histogram):
        seen += histogram[bound]
        if seen >= needed:
            return float(bound), total
    return float(max(histogram)), total


# --- what a family is told ---------------------------------------------------------------------------------------

class PlaceState(StrEnum):
    NOT_JOINED = "not_joined"
    PRE_QUEUE = "pre_queue"
    WAITING = "waiting"
    ADMITTED = "admitted"
    EXPIRED = "expired"  # admitted, then let the admission lapse: joining again queues at the back


@dataclass(frozen=True)
class PlaceReading:
    """A family's place as the store read it, in one atomic step."""
    rank: int | None  # 0-based, in the whole queue; None when the family has not joined
    released: int  # how many places from the head have been admitted so far
    admitted_at: datetime | None
    joined_at: datetime | None
    waiting_total: int  # families not yet admitted
    # For a family left waiting after the opening: how many families have been admitted in all, and the admissions'
    # meter's tokens in hand (a fraction); None otherwise.
    admitted_total: int | None = None
    tokens_in_hand: float | None = None


# How far past its place's release a family waits for the families ahead of it not admitted yet, in bursts of the
# meter: those that do not come (a poll refused at the edge, a closed tab) leave their tokens in the meter only up to
# its burst, the rest is lost while the family waits for them.
BURSTS_WAITED_AT_MOST = 2.0


def paced_ahead(reading: PlaceReading, burst: float | None = None) -> float | None:
    """How many admissions the meter must give before this waiting family's (`poll_after`'s and `poll_backoff`'s
    `ahead`, a fraction), or None when the family is not waiting. Not only the places to release before its own:
    every family ahead of it not admitted yet needs a token of the meter first, and a family released while tokens
    ran short (its place past the head, `position` 1) used to ask every second until one came its way (at the bench
    openings of 2026-12-05 16:43-17:14, 15,000-25,000 of the polls the edge refused in a run were of families
    within ten places of the head). Admissions are counted in all, so `rank - admitted_total` never exceeds the
    families ahead not admitted yet: the family is told to ask no later than its token, the pace holding and the
    families ahead asking on time; the tokens in hand come off the count. With the meter's `burst`: a family read
    while the meter is about full asks at its place's release (the families ahead are not taking their tokens), and
    no family waits more than `BURSTS_WAITED_AT_MOST` bursts past its release for families ahead that may not come
    (at the quiet opening bench of 2026-12-05 20:53, without either bound, a place's release → its family's
    admission took 23.1 s at the median against 8.9 s before this rule)."""
    if reading.rank is None or reading.admitted_at is not None:
        return None
    to_release = max(0, reading.rank - reading.released)
    if reading.admitted_total is None or reading.tokens_in_hand is None:
        return float(to_release)
    to_admit = reading.rank - reading.admitted_total - reading.tokens_in_hand
    if burst is not None:
        if reading.tokens_in_hand >= max(1.0, burst - 1):
            return float(to_release)
        to_admit = min(to_admit, to_release + BURSTS_WAITED_AT_MOST * burst)
    return max(float(to_release), to_admit, 0.0)


def place_state(reading: PlaceReading, room_phase: Phase, admission_window: timedelta, now: datetime) -> PlaceState:
    if reading.rank is None:
        return PlaceState.NOT_JOINED
    if reading.admitted_at is not None:
        return PlaceState.EXPIRED if now >= reading.admitted_at + admission_window else PlaceState.ADMITTED
    if room_phase in (Phase.PRE_QUEUE, Phase.NOT_YET):
        return PlaceState.PRE_QUEUE
    return PlaceState.WAITING


def estimated_wait(ahead: int, pace_per_minute: float) -> timedelta:
    """At the current pace: the honest figure, which moves when the pace moves (the page says so)."""
    return timedelta(seconds=math.ceil(60 * (ahead + 1) / max(pace_per_minute, 0.001)))


@dataclass(frozen=True)
class PollBudget:
    """How often the pages of one campaign's room may ask, all together. Every waiting page asks again after
    about `waiting / polls_per_second` seconds (within [shortest, longest]), so the room's polls stay near the
    budget whatever the crowd, until `longest` caps the interval (beyond `polls_per_second × longest` families
    waiting, polls grow as `waiting / longest`). A family whose place comes sooner is told to ask when it comes,
    at most `late_at_most_seconds` after (its neighbours' places come 60 / pace s apart: they need no jitter to
    drift apart), so admitted families learn of it within a second or two, at the pace they were admitted at. The
    jitter spreads pages opened together."""
    polls_per_second: float = 100.0
    shortest_seconds: float = 3.0
    longest_seconds: float = 60.0
    jitter: float = 0.2
    late_at_most_seconds: float = 1.0
    # A family whose place is released by its next poll, that poll refused as busy: it asks again this soon.
    refused_due_seconds: int = 2


def poll_spread(waiting: int, budget: PollBudget) -> float:
    """The interval that keeps `waiting` pages' polls within the budget."""
    return min(budget.longest_seconds, max(budget.shortest_seconds, waiting / max(budget.polls_per_second, 0.001)))


def poll_after(ahead: float | None, waiting: int, pace_per_minute: float, budget: PollBudget = PollBudget(),
               rng: random.Random | None = None) -> int:
    """Seconds until a family's page asks again. `ahead`: admissions before its own (`paced_ahead`, a fraction;
    None: not waiting). The budget's interval, shortened by up to `jitter` at random (never beyond `longest`); but a
    family whose admission comes sooner, at the current pace, asks just after that (at least 1 s), within
    `late_at_most_seconds`: a family that learns late submits late, and families admitted while the pace was high
    would then reach intake together after the controller cut it (docs/registrations.md, "The polls' budget")."""
    draw = rng or random
    interval = poll_spread(waiting, budget) * draw.uniform(1 - budget.jitter, 1)
    if ahead is not None:
        due = 60 * (ahead + 1) / max(pace_per_minute, 0.001)  # when its admission comes, at this pace
        if due < interval:
            interval = due + draw.uniform(0, min(due * budget.jitter, budget.late_at_most_seconds))
    return max(1, math.ceil(interval))


def poll_backoff(ahead: float | None, waiting: int, pace_per_minute: float, poll_after_seconds: int,
                 budget: PollBudget = PollBudget()) -> int:
    """Should a family's next poll (in `poll_after_seconds`) be refused as busy, the seconds it waits then: the
    soonest the room would tell it at that poll, the pace and the crowd holding — the budget's interval less its
    jitter, or sooner when its admission comes sooner (`poll_after`'s rules), `refused_due_seconds` when it is due
    by then. Its page sends it back with that poll: the edge, which cannot read the room, and a busy
    process both send a refused poll back no sooner than this (`refused_poll_retry`), so that refused polls do not
    come back as a storm while the family's place is far (at the opening of 2026-12-05 11:52, refused polls came
    back every 2-5 s: 2,338 polls a second against a budget of 100)."""
    soonest = max(budget.refused_due_seconds, math.ceil(poll_spread(waiting, budget) * (1 - budget.jitter)))
    if ahead is not None:
        ahead_then = ahead - max(pace_per_minute, 0.0) * poll_after_seconds / 60
        if ahead_then < 0:
            return budget.refused_due_seconds
        due_then = 60 * (ahead_then + 1) / max(pace_per_minute, 0.001)
        soonest = min(soonest, max(budget.refused_due_seconds, math.ceil(due_then)))
    return min(soonest, math.ceil(budget.longest_seconds))


def echoed_backoff(text: str | None, budget: PollBudget = PollBudget()) -> int | None:
    """The `poll_backoff` a page sent back: a positive whole number of seconds written plainly (no sign, no leading
    zero), at most the budget's longest interval; None for anything else (the refusal's own default then). The
    edge reads it by the same rule (deploy/local/servers/nginx.py)."""
    return echoed_seconds(text, math.ceil(budget.longest_seconds))


def echoed_seconds(text: str | None, longest: int) -> int | None:
    """Seconds a client sent back in a header: a positive whole number written plainly (no sign, no leading zero),
    `longest` for a longer one; None for anything else."""
    if not text or not text.isascii() or not text.isdigit() or text[0] == "0":
        return None
    return longest if len(text) > len(str(longest)) else min(int(text), longest)


def refused_poll_retry(backoff: int, budget: PollBudget = PollBudget(), rng: random.Random | None = None) -> int:
    """A refused poll's Retry-After from the backoff its page sent back: never sooner, up to `jitter` of it (at
    least a second) later, so that polls refused together do not come back together."""
    return (rng or random).randint(*refused_poll_span(backoff, budget))


def refused_poll_span(backoff: int, budget: PollBudget = PollBudget()) -> tuple[int, int]:
    """The first and last second `refused_poll_retry` draws from (the edge's table too)."""
    return backoff, backoff + poll_backoff_jitter(backoff, budget)


def poll_backoff_jitter(backoff: int, budget: PollBudget = PollBudget()) -> int:
    """How many seconds after `backoff` a refused poll may be sent back (`refused_poll_retry`, the edge's table)."""
    return max(1, math.ceil(backoff * budget.jitter))


@dataclass(frozen=True)
class JoinBudget:
    """How many refused joins one process tells to come back in any one second. A refused join used to come back
    after 2–5 s whatever the crowd: at an opening the refusals came back as a storm (five tries a family) that kept
    the process busy refusing, and every answer waited seconds for a connection. Now each refusal is given the
    first second from `shortest` on that still has room in the budget, so the retries a process receives stay
    within `retries_per_second` whatever the crowd, until `longest` (then they pile up on it). The arrival ticket
    keeps the family's arrival order, so a longer wait costs no place."""
    retries_per_second: float = 200.0
    shortest_seconds: int = 2
    longest_seconds: int = 60


class JoinRetries:
    """One process's calendar of refused joins due back, second by second (not thread-safe: its caller locks)."""

    def __init__(self, budget: JoinBudget = JoinBudget()):
        self.budget = budget
        self._due: dict[int, int] = {}  # epoch second → refused joins told to come back then
        self._first_open = 0  # no second before this one has room left

    def retry_after(self, now: float) -> int:
        """Seconds until this refused join asks again: the first second with room, at least `shortest` away."""
        second = int(now)
        earliest = second + self.budget.shortest_seconds
        latest = second + self.budget.longest_seconds
        if len(self._due) > 2 * self.budget.longest_seconds:  # the seconds gone by are forgotten
            self._due = {at: count for at, count in self._due.items() if at >= second}
        due = max(earliest, self._first_open)
        while due < latest and self._due.get(due, 0) >= self.budget.retries_per_second:
            due += 1
        self._due[due] = self._due.get(due, 0) + 1
        if due > earliest and self._first_open < due:
            self._first_open = due  # every second from `earliest` to here is full
        return due - second


@dataclass(frozen=True)
class JoinBackoff:
    """How long a join refused at the edge waits. nginx cannot sign an arrival ticket, so such a family keeps no
    place: each refusal only tells it when to come back. The first, `first` (first and last second, uniform). Each
    one after it, told by the Join-Backoff its client sent back (the Retry-After of its last refusal): `growth`
    times that, at most `longest_seconds`, and up to `jitter` of it more, so that a family refused again and again
    asks less and less often instead of feeding the storm. At the opening of 2026-12-05 15:16 (1,103 families a
    second, 3x intake's capacity) with 5-30 s for every refusal, families joined 5.6 times each, 82 % of the joins
    refused at the edge, and every answer waited behind them on the shared cores (docs/registrations.md, "Refused
    joins at the edge")."""
    first: tuple[int, int] = (5, 30)
    growth: float = 2.0
    longest_seconds: int = 60
    jitter: float = 0.2


def refused_join_span(echoed: int | None, backoff: JoinBackoff = JoinBackoff()) -> tuple[int, int]:
    """The span (first and last second) a join refused at the edge is sent back within, from the Join-Backoff it
    sent back (`echoed_seconds`, at most `longest_seconds`; None: its first refusal)."""
    if echoed is None:
        return backoff.first
    low = min(backoff.longest_seconds, max(backoff.first[0], math.ceil(echoed * backoff.growth)))
    return low, low + max(1, math.ceil(low * backoff.jitter))


def pre_queue_poll_after(until_opening_seconds: float, waiting: int, budget: PollBudget = PollBudget(),
                         rng: random.Random | None = None) -> int:
    """Seconds until a pre-queue page asks again: every 30 s or the budget's interval if longer (shortened by up
    to `jitter`) while the opening is far; near it, just after the opening, spread over 10 s or the budget's
    interval if longer, so that the whole pre-queue does not ask at the same second."""
    draw = rng or random
    spread = poll_spread(waiting, budget)
    far = max(30.0, spread)
    if until_opening_seconds > far:
        return math.ceil(far * draw.uniform(1 - budget.jitter, 1))
    return max(1, math.ceil(until_opening_seconds)) + math.ceil(draw.uniform(1, max(10.0, spread)))


# --- the admission token -----------------------------------------------------------------------------------------

class AdmissionRefused(Exception):
    """Intake refuses a submission of a campaign whose room is active: `reason` names why."""
    REASONS = {
        "admission-token-missing": "This campaign has a waiting room: submit with the admission token it gives "
                                   "you (header Admission-Token).",
        "admission-token-invalid": "The admission token is not one the waiting room signed.",
        "admission-token-expired": "The admission token has expired: ask the waiting room for a fresh one.",
        "admission-token-foreign": "The admission token was given to another family or for another campaign.",
    }

    def __init__(self, reason: str):
        super().__init__(self.REASONS[reason])
        self.reason = reason


@dataclass(frozen=True)
class AdmissionToken:
    value: str
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AdmissionTokens:
    """`payload.signature`, both base64url: payload {"a": family account, "c": campaign id, "exp": epoch s},
    signature HMAC-SHA256 with the service's secret (shared by every intake process)."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, payload.encode(), hashlib.sha256).digest())

    def issue(self, family_account: str, campaign_id: str, expires_at: datetime) -> AdmissionToken:
        payload = _b64(json.dumps({"a": family_account, "c": campaign_id, "exp": int(expires_at.timestamp())},
                                  separators=(",", ":")).encode())
        return AdmissionToken(f"{payload}.{self._sign(payload)}", expires_at.replace(microsecond=0))

    def verify(self, token: str | None, family_account: str, campaign_id: str, now: datetime) -> None:
        if not token:
            raise AdmissionRefused("admission-token-missing")
        payload, _, signature = token.partition(".")
        if not signature or not token.isascii() or not hmac.compare_digest(signature, self._sign(payload)):
            raise AdmissionRefused("admission-token-invalid")
        try:
            claims = json.loads(_unb64(payload))
            account, campaign, expires = claims["a"], claims["c"], float(claims["exp"])
        except (ValueError, KeyError, TypeError) as error:
            raise AdmissionRefused("admission-token-invalid") from error
        if account != family_account or campaign != campaign_id:
            raise AdmissionRefused("admission-token-foreign")
        if now.timestamp() >= expires:
            raise AdmissionRefused("admission-token-expired")


# --- the arrival ticket of a refused join ------------------------------------------------------------------------

# A refused join's ticket is honoured for this long after its refusal: longer than the longest Retry-After a
# refused join is given (JoinBudget.longest_seconds), with room for a slow page.
ARRIVAL_TICKET_TTL = timedelta(seconds=90)
# Refused again and again, a family keeps its first arrival instant this long at most (then it arrives anew).
ARRIVAL_KEPT_AT_MOST = timedelta(minutes=10)
# Arrivals after the opening are scored 1 + (milliseconds since the opening) × this: a double holds it exactly for
# years of campaign, and a join that arrives within the same millisecond as the last one still gets a higher score.
ARRIVAL_SCORE_PER_MS = 1000


def arrival_score(opens_at_ms: int, arrived_at_ms: int) -> float:
    """A late arrival's score in the queue (after every pre-queue ticket, in [0, 1)): its arrival instant."""
    return AFTER_OPENING + max(0, arrived_at_ms - opens_at_ms) * ARRIVAL_SCORE_PER_MS


def ticketed_score(opens_at_ms: int, arrived_at_ms: int) -> float:
    """A refused family's score: just before everyone who first arrived in the same millisecond or later."""
    return arrival_score(opens_at_ms, arrived_at_ms) - 0.5


class TicketOutcome(StrEnum):
    """What a join made of the arrival ticket it presented (the answer's `Arrival-Ticket-Outcome`)."""
    HONOURED = "honoured"  # placed at its arrival instant (or drawn with the pre-queue, had it arrived before)
    KEPT = "kept"  # the family already had a place: the ticket changes nothing and is not spent
    INVALID = "ignored-invalid"  # not signed by the room, tampered, unreadable
    FOREIGN = "ignored-foreign"  # another campaign's, or given to another bearer token
    EXPIRED = "ignored-expired"  # older than ARRIVAL_TICKET_TTL
    REUSED = "ignored-reused"  # already honoured once


class ArrivalTicketIgnored(Exception):
    def __init__(self, outcome: TicketOutcome):
        super().__init__(str(outcome))
        self.outcome = outcome


@dataclass(frozen=True)
class ArrivalTicket:
    ticket_id: str  # unique; the one Redis remembers once honoured
    arrived_at_ms: int  # the first refusal's instant, carried by every ticket given again after it


def bearer_digest(bearer_token: str) -> str:
    """The ticket's binding to the token it was refused with (the refusal verifies no token: it keeps a hash)."""
    return _b64(hashlib.sha256(bearer_token.encode()).digest()[:16])


class ArrivalTickets:
    """`v1.campaign.arrived_ms.issued_ms.id.bearer_digest.signature` (signature base64url HMAC-SHA256 of the rest
    with a key derived from the room's secret, apart from the admission tokens'). Issued on a busy join's refusal in
    microseconds, no Redis: an id from a per-process random prefix and counter. A refused join that presented a
    valid ticket gets a new one with the same arrival instant and id (its expiry counted from the new refusal)."""

    def __init__(self, secret: bytes, ttl: timedelta = ARRIVAL_TICKET_TTL,
                 kept_at_most: timedelta = ARRIVAL_KEPT_AT_MOST, rng: random.Random | None = None):
        self._key = hmac.new(secret, b"guichet-arrival-ticket", hashlib.sha256).digest()
        self.ttl_ms = int(ttl.total_seconds() * 1000)
        self.kept_at_most_ms = int(kept_at_most.total_seconds() * 1000)
        self._prefix = f"{(rng or random.SystemRandom()).getrandbits(48):012x}"
        self._counter = itertools.count()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.digest(self._key, payload.encode(), "sha256"))

    def issue(self, campaign_id: str, bearer_token: str, now_ms: int, presented: str | None = None) -> str:
        arrived, ticket_id = now_ms, None
        if presented:
            try:
                kept = self.verify(presented, campaign_id, bearer_token, now_ms)
                arrived, ticket_id = kept.arrived_at_ms, kept.ticket_id
            except ArrivalTicketIgnored:
                pass
        if ticket_id is None:
            ticket_id = f"{self._prefix}{next(self._counter):x}"
        payload = f"v1.{campaign_id}.{arrived}.{now_ms}.{ticket_id}.{bearer_digest(bearer_token)}"
        return f"{payload}.{self._sign(payload)}"

    def verify(self, ticket: str, campaign_id: str, bearer_token: str, now_ms: int) -> ArrivalTicket:
        payload, _, signature = ticket.rpartition(".")
        if not payload or not ticket.isascii() or not hmac.compare_digest(signature, self._sign(payload)):
            raise ArrivalTicketIgnored(TicketOutcome.INVALID)
        parts = payload.split(".")
        if len(parts) != 6 or parts[0] != "v1" or not parts[2].isdigit() or not parts[3].isdigit():
            raise ArrivalTicketIgnored(TicketOutcome.INVALID)
        _, campaign, arrived, issued, ticket_id, digest = parts
        if campaign != campaign_id or not hmac.compare_digest(digest, bearer_digest(bearer_token)):
            raise ArrivalTicketIgnored(TicketOutcome.FOREIGN)
        if not int(arrived) <= int(issued) <= now_ms + 1000:  # signed by us, so only a clock far apart
            raise ArrivalTicketIgnored(TicketOutcome.INVALID)
        if now_ms - int(issued) > self.ttl_ms or now_ms - int(arrived) > self.kept_at_most_ms:
            raise ArrivalTicketIgnored(TicketOutcome.EXPIRED)
        return ArrivalTicket(ticket_id, int(arrived))
