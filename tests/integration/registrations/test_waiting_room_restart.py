"""A Redis restart in the middle of an opening loses no position and admits no family twice: the room's state
is in Redis's append-only file, as the local Redis (deploy/local/servers/redis.py) and production keep it. The
test runs its own Redis server, restarted cleanly and then killed like a crash."""
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis

from deploy.local.servers import RedisServer, free_port
from services.registrations.domain.waiting_room import PlaceState
from tests.support.campaigns import MovableClock
from tests.support.waiting_room import room_terms, rooms_on

OPENING = datetime(2026, 2, 4, 23, 1, tzinfo=UTC)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path / "redis", port=free_port())
    server.start()
    client = redis.Redis.from_url(server.url, decode_responses=True, retry_on_timeout=True)
    yield server, client
    client.close()
    server.stop()


def test_a_redis_restart_mid_opening_loses_no_position_and_admits_nobody_twice(own_redis):
    server, client = own_redis
    clock = MovableClock(OPENING - timedelta(minutes=10))
    campaign = room_terms(OPENING, per_minute=60)
    rooms = rooms_on(client, clock, campaign)
    families = [f"family-{n:03d}" for n in range(300)]
    for family in families:
        clock.advance(milliseconds=100)
        rooms.join(family, campaign.campaign_id)
    clock.now = OPENING + timedelta(seconds=20)  # 20 admitted at one a second (and the 2 s burst)
    before = {f: rooms.place(f, campaign.campaign_id) for f in families}
    admitted_before = {f: v.admitted_at for f, v in before.items() if v.state is PlaceState.ADMITTED}
    assert 1 <= len(admitted_before) <= 22

    server.stop()  # a clean restart
    server.start()
    after = {f: rooms.place(f, campaign.campaign_id) for f in families}
    assert {f: v.position for f, v in after.items()} == {f: v.position for f, v in before.items()}
    assert {f: v.admitted_at for f, v in after.items() if v.state is PlaceState.ADMITTED} == admitted_before

    clock.advance(seconds=30)
    middle = {f: rooms.place(f, campaign.campaign_id) for f in families}
    time.sleep(1.5)  # the append-only file is fsynced every second
    server.kill()  # a crash
    server.start()
    clock.advance(seconds=30)
    end = {f: rooms.place(f, campaign.campaign_id) for f in families}
    for family in families:
        if middle[family].admitted_at is not None:
            assert end[family].admitted_at == middle[family].admitted_at  # admitted once, at the same moment
        else:
            assert end[family].state is PlaceState.ADMITTED or end[family].position <= middle[family].position
    # The head moved on in the same order: whoever is admitted at the end is a prefix of the queue.
    ranked = sorted(families, key=lambda f: (before[f].position or 0))
    admitted = [f for f in ranked if end[f].state is PlaceState.ADMITTED]
    assert admitted == ranked[:len(admitted)] and len(admitted) > len(admitted_before)
