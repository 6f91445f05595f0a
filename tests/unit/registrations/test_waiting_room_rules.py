"""The waiting room's plain rules: phases, tickets, the pace controller and its limits, the token."""
import random
from datetime import UTC, datetime, timedelta

import pytest

from services.registrations.domain.waiting_room import (
    AdmissionRefused,
    AdmissionTokens,
    PaceLimits,
    Phase,
    RoomTerms,
    commitment,
    estimated_wait,
    next_pace,
    percentile,
    phase,
    poll_after,
    pre_queue_poll_after,
    room_seed,
    ticket,
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


def test_the_estimate_and_the_polling_interval():
    assert estimated_wait(59, 60) == timedelta(minutes=1)
    rng = random.Random(3)
    polls = [poll_after(1000, 60, rng) for _ in range(200)]
    assert max(polls) == 30 and min(poll_after(0, 6000, rng) for _ in range(50)) == 2
    spread = {poll_after(20, 60, rng) for _ in range(200)}  # 5 s ± 20 %: pages drift apart
    assert spread <= {4, 5, 6} and len(spread) > 1
    # The pre-queue: every ~30 s while the opening is far; then just after it, spread over 10 s.
    assert {pre_queue_poll_after(600, rng) for _ in range(100)} <= set(range(24, 37))
    near = [pre_queue_poll_after(4.2, rng) for _ in range(500)]
    assert min(near) >= 6 and max(near) <= 15 and len(set(near)) >= 8


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
