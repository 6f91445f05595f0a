"""The Lua-backed intake guard against a real Redis: holds, waitlists, duplicates, rate limit."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest

from services.registrations.domain.applications import CampaignTerms, OfferTerms
from services.registrations.store.intake_guard import (
    READY_KEY,
    AlreadyApplied,
    CampaignFull,
    GuardNotReady,
    IntakeGuard,
    RateLimited,
)


def campaign(mode="fcfs", capacities=((2, 1),)):
    offers = {}
    for capacity, waitlist in capacities:
        offer_id = uuid.uuid4()
        offers[offer_id] = OfferTerms(offer_id, "Centre de loisirs", 3, 11, capacity, waitlist)
    now = datetime.now(timezone.utc)
    return CampaignTerms(uuid.uuid4(), 1, mode, now - timedelta(hours=1), now + timedelta(hours=1),
                         date(2026, 3, 11), 3, offers)


@pytest.fixture
def guard(redis_client):
    redis_client.set(READY_KEY, "1")
    return IntakeGuard(redis_client, rate_limit=1000)


def reserve(guard, terms, family="family-1", child=None, choices=None):
    return guard.reserve(terms, family, child or uuid.uuid4(), uuid.uuid4(), choices or list(terms.offers))


def test_fcfs_holds_places_then_waitlists_then_refuses(guard):
    terms = campaign(capacities=((2, 1),))
    outcomes = [reserve(guard, terms) for _ in range(3)]
    assert [o.kind for o in outcomes] == ["held", "held", "waitlisted"]
    assert outcomes[2].position == 1
    with pytest.raises(CampaignFull):
        reserve(guard, terms)


def test_fcfs_takes_the_first_ranked_offer_with_a_place(guard):
    terms = campaign(capacities=((1, 0), (1, 0)))
    first, second = list(terms.offers)
    assert reserve(guard, terms, choices=[first, second]).offer_id == first
    assert reserve(guard, terms, choices=[first, second]).offer_id == second


def test_concurrent_surge_never_holds_more_than_capacity(guard):
    terms = campaign(capacities=((10, 5),))

    def attempt(_):
        try:
            return reserve(guard, terms).kind
        except CampaignFull:
            return "full"

    with ThreadPoolExecutor(max_workers=16) as pool:
        kinds = list(pool.map(attempt, range(60)))
    assert kinds.count("held") == 10
    assert kinds.count("waitlisted") == 5
    assert kinds.count("full") == 45


def test_a_child_applies_once_per_campaign(guard):
    terms, child = campaign(mode="lottery"), uuid.uuid4()
    application = uuid.uuid4()
    assert guard.reserve(terms, "family-1", child, application, list(terms.offers)).kind == "none"
    with pytest.raises(AlreadyApplied) as refused:
        reserve(guard, terms, child=child)
    assert refused.value.application_id == str(application)


def test_the_same_application_again_gets_its_hold_back_without_a_new_count(guard, redis_client):
    terms, child, application = campaign(capacities=((1, 1),)), uuid.uuid4(), uuid.uuid4()
    first = guard.reserve(terms, "family-1", child, application, list(terms.offers))
    again = guard.reserve(terms, "family-1", child, application, list(terms.offers))
    assert first == again and first.kind == "held"
    assert reserve(guard, terms).kind == "waitlisted"  # the retry did not take a second place


def test_release_gives_the_place_back(guard):
    terms, child, application = campaign(capacities=((1, 0),)), uuid.uuid4(), uuid.uuid4()
    hold = guard.reserve(terms, "family-1", child, application, list(terms.offers))
    assert guard.release(terms.campaign_id, child, application, hold)
    assert reserve(guard, terms, child=child).kind == "held"


def test_rate_limit_per_family(redis_client):
    redis_client.set(READY_KEY, "1")
    limited = IntakeGuard(redis_client, rate_limit=3, rate_window_seconds=60)
    terms = campaign(mode="lottery")
    for _ in range(3):
        reserve(limited, terms, family="busy")
    with pytest.raises(RateLimited) as refused:
        reserve(limited, terms, family="busy")
    assert 0 < refused.value.retry_after <= 60
    assert reserve(limited, terms, family="calm").kind == "none"


def test_without_the_ready_marker_nothing_is_reserved(redis_client):
    guard = IntakeGuard(redis_client)
    terms = campaign()
    with pytest.raises(GuardNotReady):
        reserve(guard, terms)
    assert not list(redis_client.scan_iter(match="reg:{*"))
