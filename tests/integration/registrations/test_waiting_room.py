"""The waiting room against a real Redis: the pre-queue drawn at random from the committed seed, late arrivals
in arrival order, one place per account, never an admission twice, never faster than the pace."""
import hashlib
import math
import random
from datetime import UTC, datetime, timedelta

from services.registrations.domain.waiting_room import PlaceState, ticket
from services.registrations.store.waiting_room import RoomStore
from tests.support.campaigns import MovableClock
from tests.support.waiting_room import room_terms, rooms_on, spearman

OPENING = datetime(2026, 2, 4, 23, 1, tzinfo=UTC)


def test_twenty_thousand_families_in_the_pre_queue_are_drawn_unrelated_to_their_arrival(redis_client):
    clock = MovableClock(OPENING - timedelta(minutes=20))
    campaign = room_terms(OPENING, per_minute=600)
    rooms = rooms_on(redis_client, clock, campaign)
    families = [f"family-{n:05d}" for n in range(20_000)]
    random.Random(2026).shuffle(families)  # the order they arrive in
    store, key = RoomStore(redis_client), str(campaign.campaign_id)
    seed = rooms.seed(campaign.campaign_id)
    for arrival, family in enumerate(families):
        clock.now = OPENING - timedelta(minutes=20) + timedelta(milliseconds=50 * arrival)  # all before the opening
        store.join(key, family, True, ticket(seed, family), clock.now, 1_800_000, campaign.closes_at)
    assert rooms.place(families[0], campaign.campaign_id).state is PlaceState.PRE_QUEUE
    assert rooms.place(families[0], campaign.campaign_id).position is None  # drawn at the opening, not before

    clock.now = OPENING
    public = rooms.room(campaign.campaign_id)
    assert public.seed is not None and hashlib.sha256(bytes.fromhex(public.seed)).hexdigest() == public.commitment
    order = store.queue_order(key)
    assert len(order) == len(set(order)) == 20_000
    # Verifiable: anyone with the published seed sorts the families by their tickets and finds the same order.
    published = bytes.fromhex(public.seed)
    assert order == sorted(families, key=lambda family: ticket(published, family))
    admitted_rank = {family: rank for rank, family in enumerate(order)}
    rho = spearman(list(range(len(families))), [admitted_rank[f] for f in families])
    assert abs(rho) <= 0.05, rho
    # The families' own view agrees: position 1 is the head, every position once.
    sample = random.Random(1).sample(families, 200)
    assert {f: rooms.place(f, campaign.campaign_id).position for f in sample} == {f: admitted_rank[f] + 1
                                                                                for f in sample}


def test_arrivals_after_the_opening_are_admitted_in_arrival_order_at_the_pace_never_twice(redis_client):
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=60)  # one a second
    rooms = rooms_on(redis_client, clock, campaign)
    families = [f"late-{n:02d}" for n in range(30)]
    for family in families:
        clock.advance(milliseconds=10)
        assert rooms.join(family, campaign.campaign_id).state in (PlaceState.WAITING, PlaceState.ADMITTED)
    admitted_at: dict[str, datetime] = {}
    for _ in range(40):
        clock.advance(seconds=1)
        for family in families:
            view = rooms.place(family, campaign.campaign_id)
            if view.state is PlaceState.ADMITTED:
                assert admitted_at.setdefault(family, view.admitted_at) == view.admitted_at  # never again
                assert view.admission_token
            else:
                assert view.state is PlaceState.WAITING and view.position >= 1 and view.estimated_wait_seconds > 0
        assert set(admitted_at) == set(families[:len(admitted_at)])  # always a prefix of the arrival order
    assert len(admitted_at) == 30
    moments = sorted(admitted_at.values())
    # Intake never gets more than the pace: in any 5 s, at most 5 admissions + the burst of 2 s (stated tolerance).
    for start in moments:
        assert sum(1 for m in moments if start <= m < start + timedelta(seconds=5)) <= 5 + 2
    assert redis_client.zcard(RoomStore.keys(str(campaign.campaign_id))["admissions"]) == 30


def test_one_place_per_family_account(redis_client):
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=1)
    rooms = rooms_on(redis_client, clock, campaign)
    for n in range(5):
        rooms.join(f"other-{n}", campaign.campaign_id)
    first_tab = rooms.join("family-a", campaign.campaign_id)
    clock.advance(seconds=3)
    second_device = rooms.join("family-a", campaign.campaign_id)
    assert first_tab.joined_at == second_device.joined_at
    assert second_device.position <= first_tab.position
    assert redis_client.zcard(RoomStore.keys(str(campaign.campaign_id))["queue"]) == 6
    # The room's keys go a week after the campaign's close (by the service's clock).
    queue_ttl = redis_client.pttl(RoomStore.keys(str(campaign.campaign_id))["queue"])
    expected = (campaign.closes_at + timedelta(days=7) - clock.now).total_seconds() * 1000
    assert abs(queue_ttl - expected) <= 5_000


def test_an_admission_lapses_and_joining_again_queues_at_the_back(redis_client):
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=60)
    rooms = rooms_on(redis_client, clock, campaign, admission_window=timedelta(minutes=5))
    assert rooms.join("family-a", campaign.campaign_id).state is PlaceState.ADMITTED
    rooms.join("family-b", campaign.campaign_id)
    clock.advance(minutes=6)
    assert rooms.place("family-a", campaign.campaign_id).state is PlaceState.EXPIRED
    for n in range(3):
        rooms.join(f"newcomer-{n}", campaign.campaign_id)
    again = rooms.join("family-a", campaign.campaign_id)
    assert again.state is PlaceState.WAITING and again.ahead == 3


def test_the_pace_falls_when_intake_is_slow_and_climbs_back_within_its_limits(redis_client):
    clock = MovableClock(OPENING + timedelta(seconds=1))
    campaign = room_terms(OPENING, per_minute=600)
    rooms = rooms_on(redis_client, clock, campaign)
    rooms.join("family-a", campaign.campaign_id)
    paces = []
    for _ in range(12):  # a minute of slow intake: p95 of 1 s
        for _ in range(30):
            rooms.record_submission(900)
        clock.advance(seconds=5)
        paces.append(rooms.place("family-a", campaign.campaign_id).pace_per_minute)
    assert paces[0] < 600 and paces == sorted(paces, reverse=True) and min(paces) == 60  # the floor: 10 %
    for _ in range(12):  # then fast again
        for _ in range(30):
            rooms.record_submission(20)
        clock.advance(seconds=5)
        paces.append(rooms.place("family-a", campaign.campaign_id).pace_per_minute)
    assert paces[-1] == 600 and max(paces) == 600  # back to the configured pace, never above it



def test_families_learning_late_of_their_release_are_admitted_at_the_pace_of_the_moment(redis_client):
    """Released while the pace was high, learning of it only after it fell (their polls refused, their pages away):
    they reach intake at the pace of the moment, not together (admissions are metered as releases are)."""
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=600)  # ten a second
    rooms = rooms_on(redis_client, clock, campaign)
    families = [f"late-{n:02d}" for n in range(60)]
    admitted: dict[str, datetime] = {}
    for family in families:
        clock.advance(milliseconds=10)
        if rooms.join(family, campaign.campaign_id).state is PlaceState.ADMITTED:
            admitted[family] = clock()  # the room's 2 s burst, at once
    store, key, closes = RoomStore(redis_client), str(campaign.campaign_id), campaign.closes_at
    for _ in range(6):  # the room releases ten a second; only a manager's view reads it, no family
        clock.advance(seconds=1)
        released = store.read(key, None, clock(), OPENING, 600.0, 20.0, closes).released
    assert released == 60 and len(admitted) <= 21  # every place released, most families not told yet

    def ask_at_one_a_second() -> set[str]:
        """Every family not admitted yet asks, the pace having fallen to one a second: those admitted now."""
        now = {f for f in families if f not in admitted
               and store.read(key, f, clock(), OPENING, 60.0, 2.0, closes).admitted_at is not None}
        admitted.update({f: clock() for f in now})
        return now

    clock.advance(seconds=1)
    assert 1 <= len(ask_at_one_a_second()) <= 2  # the burst at the pace of the moment (2 s of it), not 39 at once
    metered = rooms.place(next(f for f in families if f not in admitted), campaign.campaign_id)
    assert metered.state is PlaceState.WAITING and metered.position == 1 and metered.ahead == 0
    late_start = clock()
    for _ in range(60):
        clock.advance(seconds=1)
        ask_at_one_a_second()
    assert set(admitted) == set(families)  # each once (a dict), none left behind
    late = sorted(moment for moment in admitted.values() if moment >= late_start)
    for start in late:  # in any 5 s, at most 5 admissions + the burst of 2 s
        assert sum(1 for m in late if start <= m < start + timedelta(seconds=5)) <= 5 + 2


def test_released_families_the_meter_has_no_token_for_ask_when_theirs_comes_and_are_admitted_then(redis_client):
    """Sixty families released while none asks, their polls then at the same instant: the meter's burst admits
    twenty, each of the others is told when its token comes (one every 100 ms at 600 a minute), not to ask every
    second as every "next" family did, and asking then, is admitted then, at the pace."""
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=600)  # ten a second, a burst of twenty
    rooms = rooms_on(redis_client, clock, campaign)
    families = [f"late-{n:02d}" for n in range(60)]
    for family in families:
        clock.advance(milliseconds=10)
        rooms.join(family, campaign.campaign_id)
    store, key = RoomStore(redis_client), str(campaign.campaign_id)
    for _ in range(6):  # the room releases ten a second (twenty at most a reading); no family asks meanwhile
        clock.advance(seconds=1)
        released = store.read(key, None, clock(), OPENING, 600.0, 20.0, campaign.closes_at).released
    assert released == 60
    first = {family: rooms.place(family, campaign.campaign_id) for family in families}  # in arrival order, at once
    waiting = [family for family in families if first[family].state is PlaceState.WAITING]
    assert len(waiting) >= 30 and all(first[family].position == 1 for family in waiting)  # released: "next"
    for line, family in enumerate(waiting):  # its token comes (line + 1) / 10 s from now: it asks just after that
        token_comes = math.ceil((line + 1) / 10)  # (or at the budget's interval, 3 s with none left to release)
        assert min(token_comes, 3) <= first[family].poll_after_seconds <= token_comes + 1
    assert first[waiting[-1]].poll_after_seconds >= 3  # not every second, as every "next" family used to
    # and the wait each is shown is its token's, not the second every "next" family used to be shown
    estimates = [first[family].estimated_wait_seconds for family in waiting]
    assert estimates == sorted(estimates) and estimates[-1] >= 3
    for line, family in enumerate(waiting):
        assert abs(first[family].estimated_wait_seconds - math.ceil((line + 1) / 10)) <= 1

    asks_at = {family: clock() + timedelta(seconds=first[family].poll_after_seconds) for family in waiting}
    polls, admitted_at = dict.fromkeys(waiting, 1), {}
    start = clock()
    while asks_at and clock() < start + timedelta(seconds=30):
        clock.advance(milliseconds=100)
        for family in [f for f, at in asks_at.items() if at <= clock()]:
            view = rooms.place(family, campaign.campaign_id)
            polls[family] += 1
            if view.state is PlaceState.ADMITTED:
                admitted_at[family] = view.admitted_at
                del asks_at[family]
            else:
                asks_at[family] = clock() + timedelta(seconds=view.poll_after_seconds)
    assert set(admitted_at) == set(waiting)
    # asking every second, the 38 families would have asked 38 + 38 + 28 + 18 + 8 = 130 times
    assert max(polls.values()) <= 3 and sum(polls.values()) <= 2.5 * len(waiting)
    moments = sorted(admitted_at.values())
    for since in moments:  # never ahead of the pace: in any 2 s at most 20 + the 2 s burst of 20
        assert sum(1 for m in moments if since <= m < since + timedelta(seconds=2)) <= 20 + 20
