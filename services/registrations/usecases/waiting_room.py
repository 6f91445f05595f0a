"""The waiting room's use cases: a family joins (one place per account), reads its place (admitted: with a
signed admission token), managers read the room live, anyone reads the room's commitment and, after the
opening, its seed; intake checks a submission's admission token while the room admits.

The pace: the campaign's configured admissions per minute is the ceiling; every 5 s window one process (the
first to claim the window in Redis) moves the pace from the admitted families' submissions as they saw them —
their latency, and intake's refusals counted as too slow (`domain.waiting_room.next_pace`, `submission_bucket`).
"""
from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from services.registrations.domain.applications import CampaignTerms
from services.registrations.domain.waiting_room import (
    AdmissionTokens,
    ArrivalTicketIgnored,
    ArrivalTickets,
    JoinBudget,
    PaceLimits,
    Phase,
    PlaceReading,
    PlaceState,
    PollBudget,
    RoomTerms,
    TicketOutcome,
    arrival_score,
    commitment,
    estimated_wait,
    next_pace,
    paced_ahead,
    percentile,
    phase,
    place_state,
    poll_after,
    poll_backoff,
    pre_queue_poll_after,
    room_seed,
    submission_bucket,
    ticket,
    ticketed_score,
)
from services.registrations.store.campaign_directory import CampaignDirectory
from services.registrations.store.waiting_room import LATENCY_WINDOW_SECONDS, IntakeLatency, RoomFigures, RoomStore
from shared.clock import Clock

KEPT_AFTER_CLOSE = timedelta(days=7)  # a room's Redis keys expire a week after its campaign's close


class NoWaitingRoom(Exception):
    """The campaign is unknown, or has no waiting room."""


class RoomNotOpenYet(Exception):
    def __init__(self, pre_queue_opens_at: datetime):
        super().__init__(f"the waiting room opens at {pre_queue_opens_at.isoformat()}")
        self.pre_queue_opens_at = pre_queue_opens_at


class RoomClosed(Exception):
    def __init__(self, closes_at: datetime):
        super().__init__("the campaign's window has closed")
        self.closes_at = closes_at


@dataclass(frozen=True)
class PlaceView:
    campaign_id: UUID
    state: PlaceState
    phase: Phase
    opens_at: datetime
    position: int | None  # 1 = next to be admitted; None before the opening's draw
    ahead: int | None
    waiting: int  # families waiting in the room
    pace_per_minute: float
    estimated_wait_seconds: int | None
    poll_after_seconds: int
    joined_at: datetime | None
    admitted_at: datetime | None
    admission_token: str | None
    admission_token_expires_at: datetime | None
    arrival_ticket: TicketOutcome | None = None  # what a join made of the arrival ticket it presented
    # Should the family's next poll be refused as busy, the seconds it waits then (`domain.waiting_room.poll_backoff`):
    # given with the answer (header Poll-Backoff), sent back by the page with that poll.
    poll_backoff_seconds: int | None = None


@dataclass(frozen=True)
class RoomView:
    campaign_id: UUID
    phase: Phase
    pre_queue_opens_at: datetime
    opens_at: datetime
    closes_at: datetime
    admissions_per_minute: int
    commitment: str
    seed: str | None  # published once the pre-queue's order is drawn (at the opening)


@dataclass(frozen=True)
class RoomLive:
    campaign_id: UUID
    phase: Phase
    figures: RoomFigures
    pace_per_minute: float
    admissions_per_minute: int


class WaitingRooms:
    def __init__(self, campaigns: CampaignDirectory, store: RoomStore, latency: IntakeLatency, clock: Clock, *,
                 secret: bytes | None = None, token_ttl: timedelta = timedelta(minutes=10),
                 admission_window: timedelta = timedelta(minutes=30), burst_seconds: float = 2.0,
                 limits: PaceLimits = PaceLimits(), poll_budget: PollBudget = PollBudget(),
                 join_budget: JoinBudget = JoinBudget(), rng: random.Random | None = None):
        self.campaigns, self.store, self.latency, self.clock = campaigns, store, latency, clock
        self.token_ttl, self.admission_window, self.burst_seconds, self.limits = (token_ttl, admission_window,
                                                                                  burst_seconds, limits)
        self.poll_budget, self.join_budget = poll_budget, join_budget
        self.rng = rng or random.Random()
        self._secret = secret
        self._arrival_tickets: ArrivalTickets | None = None
        self._lock = threading.Lock()
        self._paces: dict[str, tuple[int, float]] = {}  # campaign → (control window, pace) this process read

    # --- the secret, the seed, the tokens --------------------------------------------------------------------

    def secret(self) -> bytes:
        with self._lock:
            if self._secret is None:
                self._secret = self.store.secret()
            return self._secret

    def tokens(self) -> AdmissionTokens:
        return AdmissionTokens(self.secret())

    def arrival_tickets(self) -> ArrivalTickets:
        if self._arrival_tickets is None:
            secret = self.secret()
            with self._lock:
                if self._arrival_tickets is None:
                    self._arrival_tickets = ArrivalTickets(secret)
        return self._arrival_tickets

    def refused_arrival(self, campaign_id: UUID, bearer_token: str, presented: str | None) -> str:
        """The arrival ticket of a join refused as busy (no Redis once the secret is known, no token verified):
        this instant, or the one a valid ticket it presented carries."""
        return self.arrival_tickets().issue(str(campaign_id), bearer_token, _ms(self.clock()), presented)

    def seed(self, campaign_id: UUID) -> bytes:
        return room_seed(self.secret(), str(campaign_id))

    # --- families ----------------------------------------------------------------------------------------------

    def _room(self, campaign_id: UUID) -> tuple[CampaignTerms, RoomTerms]:
        campaign = self.campaigns.get(campaign_id)
        if campaign is None or campaign.waiting_room is None or not campaign.waiting_room.enabled:
            raise NoWaitingRoom(str(campaign_id))
        return campaign, campaign.waiting_room

    def join(self, family_account: str, campaign_id: UUID, arrival_ticket: str | None = None,
             bearer_token: str = "") -> PlaceView:
        """Take a place (or find the one this account already has: a second tab gets the same place). With the
        arrival ticket of a join refused as busy (and the bearer token it was given to), at the place its arrival
        instant gives: drawn with the pre-queue had it arrived before the opening, else in arrival order among the
        families not yet admitted; a ticket that is not valid is ignored (`arrival_ticket` says why)."""
        campaign, room = self._room(campaign_id)
        now = self.clock()
        room_phase = phase(room, campaign.opens_at, campaign.closes_at, now)
        if room_phase is Phase.NOT_YET:
            raise RoomNotOpenYet(campaign.opens_at - room.opens_before)
        if room_phase is Phase.CLOSED:
            raise RoomClosed(campaign.closes_at)
        pace = self._pace(campaign, room, now)
        seed, opens_ms = self.seed(campaign_id), _ms(campaign.opens_at)
        honoured, outcome = None, None
        if arrival_ticket:
            tickets = self.arrival_tickets()
            try:
                kept = tickets.verify(arrival_ticket, str(campaign_id), bearer_token, _ms(now))
            except ArrivalTicketIgnored as ignored:
                outcome = ignored.outcome
            else:
                outcome = TicketOutcome.HONOURED  # in the pre-queue a ticket changes nothing: everyone is drawn
                if room_phase is Phase.OPEN:
                    score = (ticket(seed, family_account) if kept.arrived_at_ms < opens_ms
                             else ticketed_score(opens_ms, kept.arrived_at_ms))
                    honoured = (kept.ticket_id, score, tickets.kept_at_most_ms + tickets.ttl_ms)
        reading, spent = self.store.join_and_read(
            str(campaign_id), family_account, room_phase is Phase.PRE_QUEUE, ticket(seed, family_account), now,
            int(self.admission_window.total_seconds() * 1000), campaign.opens_at, pace, self._burst(pace),
            campaign.closes_at + KEPT_AFTER_CLOSE, arrival=arrival_score(opens_ms, _ms(now)), honoured=honoured)
        if spent:
            outcome = TicketOutcome(spent)
        elif outcome is TicketOutcome.HONOURED and reading.joined_at and _ms(reading.joined_at) != _ms(now):
            outcome = TicketOutcome.KEPT  # in the pre-queue, a family that had a place keeps it
        view = self._place(family_account, campaign, room, now, pace, reading)
        return replace(view, arrival_ticket=outcome)

    def place(self, family_account: str, campaign_id: UUID) -> PlaceView:
        campaign, room = self._room(campaign_id)
        now = self.clock()
        pace = self._pace(campaign, room, now)
        reading = self.store.read(str(campaign_id), family_account, now, campaign.opens_at, pace,
                                  self._burst(pace), campaign.closes_at + KEPT_AFTER_CLOSE)
        return self._place(family_account, campaign, room, now, pace, reading)

    def _place(self, family_account: str, campaign: CampaignTerms, room: RoomTerms, now: datetime, pace: float,
               reading: PlaceReading) -> PlaceView:
        """What the family is told of the place the store read."""
        room_phase = phase(room, campaign.opens_at, campaign.closes_at, now)
        state = place_state(reading, room_phase, self.admission_window, now)
        position = ahead = estimate = token = paced = None
        if state is PlaceState.WAITING:
            # released but not admitted yet: the admissions' meter had no room (store/waiting_room.py): next
            ahead = max(0, reading.rank - reading.released)
            position = ahead + 1
            paced = paced_ahead(reading, self._burst(pace))  # asks when the meter has a token for it
            # The wait it is told is the same: a released family ("position 1") may still wait for its token.
            estimate = int(estimated_wait(math.ceil(paced), pace).total_seconds())
            poll = poll_after(paced, reading.waiting_total, pace, self.poll_budget, self.rng)
        elif state is PlaceState.PRE_QUEUE:
            poll = pre_queue_poll_after((campaign.opens_at - now).total_seconds(), reading.waiting_total,
                                        self.poll_budget, self.rng)
        else:
            poll = poll_after(None, reading.waiting_total, pace, self.poll_budget, self.rng)
        backoff = poll_backoff(paced, reading.waiting_total, pace, poll, self.poll_budget)
        if state is PlaceState.ADMITTED:
            expires = min(now + self.token_ttl, reading.admitted_at + self.admission_window)
            token = self.tokens().issue(family_account, str(campaign.campaign_id), expires)
        return PlaceView(campaign_id=campaign.campaign_id, state=state, phase=room_phase, opens_at=campaign.opens_at,
                         position=position, ahead=ahead, waiting=reading.waiting_total, pace_per_minute=pace,
                         estimated_wait_seconds=estimate, poll_after_seconds=poll, joined_at=reading.joined_at,
                         admitted_at=reading.admitted_at, admission_token=token.value if token else None,
                         admission_token_expires_at=token.expires_at if token else None,
                         poll_backoff_seconds=backoff)

    # --- the pace ------------------------------------------------------------------------------------------------

    def _burst(self, pace_per_minute: float) -> float:
        return max(1.0, pace_per_minute * self.burst_seconds / 60)

    def _pace(self, campaign: CampaignTerms, room: RoomTerms, now: datetime) -> float:
        """The room's pace, read from Redis (and moved by the controller) once per 5 s window per process."""
        campaign_id = str(campaign.campaign_id)
        window = int(now.timestamp()) // LATENCY_WINDOW_SECONDS
        known = self._paces.get(campaign_id)
        if known is not None and known[0] == window and now >= campaign.opens_at:
            return min(known[1], float(room.admissions_per_minute))
        current = self.store.pace(campaign_id)
        if current is None:
            current = float(room.admissions_per_minute)
        current = min(current, float(room.admissions_per_minute))  # a manager lowered the ceiling meanwhile
        if now < campaign.opens_at:
            return current
        if self.store.claim_control(campaign_id, window):
            p95, samples = percentile(self.latency.histogram(window - 1), 0.95)
            current = next_pace(current, room.admissions_per_minute, p95, samples, self.limits)
            self.store.set_pace(campaign_id, current)
        self._paces[campaign_id] = (window, current)
        return current

    def record_submission(self, milliseconds: float, shed: bool = False) -> None:
        """An admitted family's submission as the family saw it (web/parents/waiting_room_fast.py measures it
        around everything the process does for it, from the ingress's X-Request-Start when it gives one), or shed
        by intake: what the pace controller reads (`submission_bucket`)."""
        window = int(self.clock().timestamp()) // LATENCY_WINDOW_SECONDS
        self.latency.record(window, submission_bucket(milliseconds, shed))

    # --- intake's check, the public view, the managers' view --------------------------------------------------

    def check_admission(self, family_account: str, campaign_id: UUID, token: str | None) -> bool:
        """While a campaign's room admits, a submission needs a valid admission token (AdmissionRefused).
        True when the room admits (its pace follows such submissions, timed by `record_submission`'s caller)."""
        campaign = self.campaigns.get(campaign_id)
        if campaign is None or campaign.waiting_room is None or not campaign.waiting_room.enabled:
            return False
        now = self.clock()
        if phase(campaign.waiting_room, campaign.opens_at, campaign.closes_at, now) is not Phase.OPEN:
            return False  # before the opening or after the close, intake gives its own answer
        self.tokens().verify(token, family_account, str(campaign_id), now)
        return True

    def room(self, campaign_id: UUID) -> RoomView:
        campaign, room = self._room(campaign_id)
        now = self.clock()
        seed = self.seed(campaign_id)
        return RoomView(campaign_id=campaign_id, phase=phase(room, campaign.opens_at, campaign.closes_at, now),
                        pre_queue_opens_at=campaign.opens_at - room.opens_before, opens_at=campaign.opens_at,
                        closes_at=campaign.closes_at, admissions_per_minute=room.admissions_per_minute,
                        commitment=commitment(seed), seed=seed.hex() if now >= campaign.opens_at else None)

    def live(self, campaign_id: UUID) -> RoomLive:
        campaign, room = self._room(campaign_id)
        now = self.clock()
        pace = self._pace(campaign, room, now)
        self.store.read(str(campaign_id), None, now, campaign.opens_at, pace, self._burst(pace),
                        campaign.closes_at + KEPT_AFTER_CLOSE)
        return RoomLive(campaign_id=campaign_id, phase=phase(room, campaign.opens_at, campaign.closes_at, now),
                        figures=self.store.figures(str(campaign_id), now), pace_per_minute=pace,
                        admissions_per_minute=room.admissions_per_minute)


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)
