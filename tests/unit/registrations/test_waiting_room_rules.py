"""The waiting room's plain rules: phases, tickets, the pace controller and its limits, the token."""
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from services.registrations.domain.waiting_room import (
    ARRIVAL_TICKET_TTL,
    AdmissionRefused,
    AdmissionTokens,
    ArrivalTicketIgnored,
    ArrivalTickets,
    JoinBudget,
    JoinRetries,
    PaceLimits,
    Phase,
    PlaceReading,
    PollBudget,
    RoomTerms,
    TicketOutcome,
    arrival_score,
    commitment,
    echoed_backoff,
    estimated_wait,
    next_pace,
    paced_ahead,
    percentile,
    phase,
    poll_after,
    poll_backoff,
    pre_queue_poll_after,
    refused_poll_retry,
    room_seed,
    submission_bucket,
    ticket,
    ticketed_score,
)

OPENING = datetime(2026, 2, 4, 23, 1, tzinfo=UTC)
ROOM = RoomTerms(True, timedelta(minutes=30), 120)


@pytest.mark.parametrize(("offset", "expected"), [
    (timedelta(minutes=-31), Phase.NOT_YET), (timedelta(minutes=-30), Phase.PRE_QUEUE),
    (timedelta(seconds=-1), Phase.PRE_QUEUE), (timedelta(0), Phase.OPEN), (timedelta(hours=4), Phase.CLOSED)])
def test_phases(offset, expected):
    assert phase(ROOM, OPENING, OPENING + timedelta(hours=4), OPENING + offset) is expected


def test_tickets_depend_on_the_seed_and_the_account_only():
    seed = room_seed(b"secret", "campaign-1")
    assert seed != room_seed(b"secret", "campaign-2") and len(commitment(seed)) == 64
    assert ticket(seed, "family-a") == ticket(seed, "family-a") != ticket(seed, "family-b")
    assert all(0 <= ticket(seed, f"family-{n}") < 1 for n in range(1000))


def test_the_controller_cuts_on_slow_intake_climbs_on_fast_and_keeps_to_its_limits():
    assert next_pace(120, 120, p95_ms=500, samples=100) == 84  # × 0.7
    assert next_pace(13, 120, p95_ms=5000, samples=100) == 12  # never below 10 % of the ceiling
    assert next_pace(60, 120, p95_ms=100, samples=100) == 72  # + 10 % of the ceiling
    assert next_pace(118, 120, p95_ms=100, samples=100) == 120  # never above the configured pace
    assert next_pace(60, 120, p95_ms=250, samples=100) == 60  # between half the target and the target: hold
    assert next_pace(60, 120, p95_ms=900, samples=5) == 72  # too few samples to call intake slow
    assert next_pace(60, 120, None, 0, PaceLimits(increase_share=0.5)) == 120


def test_percentile_of_a_latency_histogram():
    assert percentile({}, 0.95) == (None, 0)
    assert percentile({25: 90, 500: 9, 2000: 1}, 0.95) == (500.0, 100)


def test_submissions_intake_shed_count_as_over_the_target():
    def window(fast: int, shed: int) -> dict[int, int]:
        histogram: dict[int, int] = {}
        for bucket in [submission_bucket(20, shed=False)] * fast + [submission_bucket(20, shed=True)] * shed:
            histogram[bucket] = histogram.get(bucket, 0) + 1
        return histogram

    assert submission_bucket(20, shed=False) == 25 and submission_bucket(20, shed=True) == 10_000
    # Every 202 fast, yet 6 % of the admitted families were sent away: the pace falls.
    p95, samples = percentile(window(fast=94, shed=6), 0.95)
    assert next_pace(600, 600, p95, samples) == 420
    # A few sheds (4 %) within the percentile's margin: the pace climbs as for a fast intake.
    p95, samples = percentile(window(fast=96, shed=4), 0.95)
    assert next_pace(300, 600, p95, samples) == 360


def test_refused_joins_come_back_within_the_budget_a_second_however_many():
    retries = JoinRetries(JoinBudget(retries_per_second=100, shortest_seconds=2, longest_seconds=60))
    burst = Counter(retries.retry_after(1000.3) for _ in range(1000))
    assert burst == {seconds: 100 for seconds in range(2, 12)}  # 10 s of the budget, from the shortest on
    # A second later the seconds already full stay full: the next refusal comes back after them.
    assert retries.retry_after(1001.5) == 11
    # A quiet process sends a refusal back after the shortest wait.
    assert JoinRetries(JoinBudget(100)).retry_after(5000.0) == 2
    # Beyond the longest wait, refusals pile up on it rather than wait longer.
    crowd = Counter(retries.retry_after(1002.0) for _ in range(7000))
    assert max(crowd) == 60 and crowd[60] > 100 and all(count <= 100 for seconds, count in crowd.items() if seconds < 60)


def test_a_refused_joins_ticket_outlives_its_longest_wait():
    assert ARRIVAL_TICKET_TTL > timedelta(seconds=JoinBudget().longest_seconds)


def test_the_estimate():
    assert estimated_wait(59, 60) == timedelta(minutes=1)


def test_the_polls_of_a_crowd_stay_within_the_budget_until_the_longest_interval():
    rng, budget = random.Random(3), PollBudget(polls_per_second=100, shortest_seconds=3, longest_seconds=60)
    for waiting in (50, 1_000, 3_000, 6_000, 20_000):
        intervals = [poll_after(waiting, waiting, 60, budget, rng) for _ in range(2_000)]  # all far from the head
        polls_per_second = waiting * sum(1 / i for i in intervals) / len(intervals)
        expected = min(budget.polls_per_second, waiting / budget.shortest_seconds) if waiting <= 6_000 else waiting / 60
        assert expected * 0.95 <= polls_per_second <= expected * 1.3, (waiting, polls_per_second)
        assert budget.shortest_seconds * 0.8 <= min(intervals) and max(intervals) <= budget.longest_seconds
    spread = {poll_after(5_000, 5_000, 60, budget, rng) for _ in range(200)}  # 50 s, shortened by up to 20 %
    assert spread <= set(range(40, 51)) and len(spread) >= 8  # pages opened together drift apart


def test_a_family_whose_place_comes_sooner_asks_just_after_it_comes():
    rng, budget = random.Random(5), PollBudget(polls_per_second=100)
    # 20,000 waiting: the budget says 60 s; at 600 a minute, 10 families ahead are released in 1.1 s.
    near = [poll_after(10, 20_000, 600, budget, rng) for _ in range(500)]
    assert set(near) <= {2} and len(near) == 500
    soon = [poll_after(99, 20_000, 600, budget, rng) for _ in range(500)]  # released in 10 s: asks at 10–11 s
    assert min(soon) >= 10 and max(soon) <= 11
    # released in 40 s: still at most a second late (not 20 % of 40 s)
    later = [poll_after(399, 20_000, 600, budget, rng) for _ in range(500)]
    assert min(later) >= 40 and max(later) <= 41
    assert min(poll_after(0, 20_000, 60_000, budget, rng) for _ in range(50)) == 1
    assert poll_after(10_000, 20_000, 600, budget, rng) <= 60  # far: the budget's interval


def waiting_at(rank: int, released: int, admitted_total: int | None, tokens: float | None) -> PlaceReading:
    return PlaceReading(rank=rank, released=released, admitted_at=None, joined_at=OPENING, waiting_total=20_000,
                        admitted_total=admitted_total, tokens_in_hand=tokens)


def test_a_released_family_the_meter_has_no_token_for_asks_when_its_token_comes():
    # Released (rank 900 < 1,000 released), 600 admitted in all, 0.25 of a token in hand: at least 299.75
    # admissions before its own (not every family ahead of it was admitted: some behind it may have been).
    assert paced_ahead(waiting_at(900, 1_000, 600, 0.25)) == 299.75
    rng, budget = random.Random(7), PollBudget(polls_per_second=100)
    # at 600 a minute: its token comes in (299.75 + 1) / 10 = 30.1 s; it asks then (within a second), not every second
    asks = [poll_after(paced_ahead(waiting_at(900, 1_000, 600, 0.25)), 20_000, 600, budget, rng) for _ in range(200)]
    assert min(asks) >= 31 and max(asks) <= 32
    # its first in the meter's line: the next token (0.75 of one to go, at 10 a second) — at least a second
    assert paced_ahead(waiting_at(600, 1_000, 600, 0.25)) == 0.0
    assert {poll_after(0.0, 20_000, 600, budget, rng) for _ in range(50)} == {1}
    # families behind it admitted first (they asked first): never below nothing ahead
    assert paced_ahead(waiting_at(10, 1_000, 600, 0.5)) == 0.0
    # refused at its next poll (in 10 s), it waits what the room would have told it then: 30.1 - 10 s, rounded up
    assert poll_backoff(299.75, 20_000, 600, 10, budget) == 21


def test_a_family_not_released_yet_asks_when_its_place_or_its_token_comes_whichever_is_later():
    # the place is further than the tokens: 500 to release, 400 + 500 - 2 admissions — a burst of tokens in hand
    assert paced_ahead(waiting_at(1_500, 1_000, 1_100, 2.0)) == 500.0
    assert paced_ahead(waiting_at(1_500, 1_000, 900, 20.0)) == 580.0  # the tokens short: 600 - 20
    # a full burst in hand (as after the room was idle) brings the token forward by as much, never the release
    assert paced_ahead(waiting_at(1_500, 1_000, 800, 600.0)) == 500.0
    # the store gives no meter before the opening (the pre-queue) or for an admitted family
    assert paced_ahead(waiting_at(1_500, 1_000, None, None)) == 500.0
    admitted = PlaceReading(rank=3, released=10, admitted_at=OPENING, joined_at=OPENING, waiting_total=5)
    assert paced_ahead(admitted) is None
    assert paced_ahead(PlaceReading(None, 0, None, None, 0)) is None


def test_a_family_waits_for_the_families_ahead_at_most_two_bursts_and_not_at_all_once_the_meter_is_full():
    # 300 families ahead not admitted, but the meter holds 19.5 of its 20: those ahead are not taking their tokens
    # (refused polls, closed tabs) and what the meter gains beyond 20 is lost: the family asks at its release
    assert paced_ahead(waiting_at(900, 1_000, 600, 19.5), burst=20.0) == 0.0
    assert paced_ahead(waiting_at(1_500, 1_000, 600, 19.5), burst=20.0) == 500.0  # not released yet: the release
    # below that, it waits for its token, but never more than two bursts past its release for the families ahead
    assert paced_ahead(waiting_at(900, 1_000, 600, 18.5), burst=20.0) == 40.0
    assert paced_ahead(waiting_at(900, 1_000, 880, 0.5), burst=20.0) == 19.5  # within the bound: its token
    assert paced_ahead(waiting_at(900, 1_000, 600, 18.5)) == 281.5  # no burst given: no bound
    assert paced_ahead(waiting_at(1_500, 1_000, 600, 0.0), burst=20.0) == 540.0  # not released: release + 2 bursts
    # a burst of one: a whole token in hand is full; less than one is not
    assert paced_ahead(waiting_at(900, 1_000, 600, 1.0), burst=1.0) == 0.0
    assert paced_ahead(waiting_at(900, 1_000, 600, 0.5), burst=1.0) == 2.0


def test_with_the_pace_at_nothing_or_tiny_a_family_far_from_its_token_asks_at_the_budgets_interval():
    rng, budget = random.Random(9), PollBudget(polls_per_second=100)
    far = paced_ahead(waiting_at(900, 1_000, 600, 0.0))
    for pace in (0.0, 1e-9, 0.5):
        asks = {poll_after(far, 3_000, pace, budget, rng) for _ in range(100)}
        assert asks <= set(range(24, 31))  # 3,000 waiting: 30 s, less up to a fifth
        assert poll_backoff(far, 3_000, pace, 30, budget) == 24


def test_a_refused_poll_waits_what_the_room_would_have_told_the_family_at_that_poll():
    budget = PollBudget(polls_per_second=100)
    # 20,000 waiting, far back: the budget's 60 s less its jitter, the soonest the room would say (48 s)
    assert poll_backoff(10_000, 20_000, 600, 60, budget) == 48
    # 3,000 waiting: 30 s less a fifth
    assert poll_backoff(2_000, 3_000, 600, 30, budget) == 24
    # told to ask in 50 s, its place then 10 s away at 600 a minute: 10 s at that poll
    assert poll_backoff(599, 20_000, 600, 50, budget) == 10
    # its place released by its next poll: a refusal sends it back within seconds
    assert poll_backoff(99, 20_000, 600, 11, budget) == budget.refused_due_seconds == 2
    assert poll_backoff(0, 20_000, 600, 1, budget) == 2
    # not waiting (pre-queue, admitted): the budget's interval less its jitter, never under the due families' wait
    assert poll_backoff(None, 20_000, 600, 30, budget) == 48 and poll_backoff(None, 10, 600, 3, budget) == 3
    assert poll_backoff(None, 10**9, 0, 60, budget) == 48 == poll_backoff(10**8, 10**9, 1, 60, budget)
    assert poll_backoff(None, 10**9, 0, 60, PollBudget(jitter=0)) == 60  # never beyond the longest interval


def test_a_refused_poll_comes_back_no_sooner_than_its_backoff_and_drawn_per_refusal():
    rng, budget = random.Random(7), PollBudget()
    for backoff, latest in ((2, 3), (10, 12), (48, 58), (60, 72)):
        draws = Counter(refused_poll_retry(backoff, budget, rng) for _ in range(2_000))
        assert set(draws) == set(range(backoff, latest + 1)), (backoff, draws)


def test_the_backoff_a_page_sends_back_is_plain_digits_capped_at_the_longest_interval():
    budget = PollBudget(longest_seconds=60)
    assert [echoed_backoff(text, budget) for text in ("1", "48", "60", "61", "86400", "9" * 5000)] == [
        1, 48, 60, 60, 60, 60]
    for text in (None, "", "0", "007", "-5", "+5", "5s", " 5", "1e3", "4,4", "٣", "²"):
        assert echoed_backoff(text, budget) is None, text


def test_the_pre_queue_asks_every_30_s_then_spreads_over_the_budget_after_the_opening():
    rng, budget = random.Random(3), PollBudget(polls_per_second=100)
    assert {pre_queue_poll_after(600, 500, budget, rng) for _ in range(100)} <= set(range(24, 31))
    near = [pre_queue_poll_after(4.2, 500, budget, rng) for _ in range(500)]  # a small room: over 10 s
    assert min(near) >= 6 and max(near) <= 15 and len(set(near)) >= 8
    crowded = [pre_queue_poll_after(4.2, 5_000, budget, rng) for _ in range(2_000)]  # 5,000 over 50 s
    assert min(crowded) >= 6 and max(crowded) <= 55 and len(set(crowded)) >= 40
    assert {pre_queue_poll_after(55, 5_000, budget, rng) for _ in range(100)} <= set(range(40, 51))


def test_an_admission_token_is_bound_to_its_family_its_campaign_and_its_time():
    tokens = AdmissionTokens(b"secret")
    token = tokens.issue("family-a", "campaign-1", OPENING + timedelta(minutes=10)).value
    tokens.verify(token, "family-a", "campaign-1", OPENING)
    for candidate, account, campaign, now, reason in [
        (None, "family-a", "campaign-1", OPENING, "admission-token-missing"),
        (token, "family-b", "campaign-1", OPENING, "admission-token-foreign"),
        (token, "family-a", "campaign-2", OPENING, "admission-token-foreign"),
        (token, "family-a", "campaign-1", OPENING + timedelta(minutes=10), "admission-token-expired"),
        (token.replace(".", "x."), "family-a", "campaign-1", OPENING, "admission-token-invalid"),
        (token + "é", "family-a", "campaign-1", OPENING, "admission-token-invalid"),
        ("no-dot-at-all", "family-a", "campaign-1", OPENING, "admission-token-invalid"),
        (AdmissionTokens(b"other").issue("family-a", "campaign-1", OPENING + timedelta(hours=1)).value,
         "family-a", "campaign-1", OPENING, "admission-token-invalid"),
    ]:
        with pytest.raises(AdmissionRefused) as refused:
            tokens.verify(candidate, account, campaign, now)
        assert refused.value.reason == reason


def test_arrival_scores_stay_exact_and_a_ticket_goes_just_before_its_millisecond():
    opening = 1_770_000_000_000
    ninety_days = opening + 90 * 24 * 3600 * 1000
    assert arrival_score(opening, opening - 5) == 1.0  # a join before the opening cannot be scored earlier
    scores = [arrival_score(opening, ninety_days - 1), ticketed_score(opening, ninety_days),
              arrival_score(opening, ninety_days), arrival_score(opening, ninety_days) + 1]
    assert scores == sorted(set(scores))  # distinct doubles, in this order


def test_an_arrival_ticket_refused_again_keeps_its_instant_at_most_ten_minutes():
    tickets = ArrivalTickets(b"secret", rng=random.Random(1))
    campaign, now = "c0ffee00-0000-4000-8000-000000000000", 1_770_000_000_000
    chain = tickets.issue(campaign, "bearer", now)
    for step in range(1, 21):  # refused every 29 s: each new ticket carries the first instant
        chain = tickets.issue(campaign, "bearer", now + step * 29_000, chain)
        assert tickets.verify(chain, campaign, "bearer", now + step * 29_000).arrived_at_ms == now
    late = now + 21 * 29_000  # past ten minutes since the first refusal
    with pytest.raises(ArrivalTicketIgnored) as expired:
        tickets.verify(chain, campaign, "bearer", late)
    assert expired.value.outcome is TicketOutcome.EXPIRED
    assert tickets.verify(tickets.issue(campaign, "bearer", late, chain), campaign, "bearer", late).arrived_at_ms == late


def test_a_join_refused_at_the_edge_again_and_again_waits_longer_up_to_a_minute():
    from services.registrations.domain.waiting_room import JoinBackoff, refused_join_span

    backoff = JoinBackoff()
    assert refused_join_span(None) == backoff.first == (5, 30)
    assert refused_join_span(5) == (10, 12) and refused_join_span(17) == (34, 41)
    assert refused_join_span(1) == (5, 6)  # never sooner than a first refusal
    assert refused_join_span(30) == refused_join_span(60) == (60, 72)  # at most a minute, and a fifth to spread
    # Refused every time, a family asks 3 times in its first two minutes instead of about 7 (5-30 s each time).
    waited, tries, echoed = 0, 0, None
    while waited < 120:
        first, last = refused_join_span(echoed)
        echoed = (first + last) // 2
        waited, tries = waited + echoed, tries + 1
    assert tries <= 4
