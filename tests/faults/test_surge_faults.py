"""Faults during an opening surge of a first-come campaign: a broker restart, crashed workers (intake,
allocation), a Redis restart, a PostgreSQL restart, while parents submit and accept the places they
are offered. After each: every 202 is in the ledger exactly once, no offer holds more than its
capacity, every accepted place is confirmed by exactly one registration.confirmed, and the service is
ready again without a manual step."""
import threading
import time

import pytest

from tests.support.faults import assert_nothing_lost_nothing_twice, prepare_surge

PARENTS = 100
CAPACITY = 30

pytestmark = pytest.mark.faults


def surge_with(fault_stack, fault, after_seconds: float = 1.5):
    surge = prepare_surge(fault_stack, PARENTS, CAPACITY)
    breaker = threading.Thread(target=lambda: (time.sleep(after_seconds), fault()))
    breaker.start()
    started = time.monotonic()
    surge.run()
    breaker.join()
    print(f"\n{fault.__name__}: {dict(surge.outcomes)} in {time.monotonic() - started:.1f}s")
    return surge


def restarting(server, pause_seconds: float):
    """The fault: the server stopped, `pause_seconds` away, then started again on the same data."""
    def restart():
        server.stop()
        time.sleep(pause_seconds)
        server.start()
    restart.__name__ = f"restart_{server.name}"
    return restart


def test_kafka_broker_restart_during_the_surge(fault_stack):
    surge = surge_with(fault_stack, restarting(fault_stack.kafka, 3))
    assert_nothing_lost_nothing_twice(fault_stack, surge, CAPACITY)


def test_intake_worker_killed_and_restarted_during_the_surge(fault_stack):
    def crash_worker():
        fault_stack.kill_worker("registrations")
        time.sleep(2)
        fault_stack.start_worker("registrations")

    surge = surge_with(fault_stack, crash_worker)
    assert_nothing_lost_nothing_twice(fault_stack, surge, CAPACITY)


def test_allocation_worker_killed_twice_while_places_are_given_and_accepted(fault_stack):
    def crash_allocation_worker():
        for _ in range(2):  # once while decisions are made, once more while parents accept
            fault_stack.kill_worker("allocation")
            time.sleep(2)
            fault_stack.start_worker("allocation")
            time.sleep(2)

    surge = surge_with(fault_stack, crash_allocation_worker)
    assert_nothing_lost_nothing_twice(fault_stack, surge, CAPACITY)


def test_redis_restart_during_the_surge(fault_stack):
    surge = surge_with(fault_stack, restarting(fault_stack.redis, 2))
    assert_nothing_lost_nothing_twice(fault_stack, surge, CAPACITY)


def test_redis_state_lost_during_the_surge_is_rebuilt_from_the_ledger(fault_stack):
    import redis

    surge = surge_with(fault_stack, lambda: redis.Redis.from_url(fault_stack.redis.url).flushall())
    assert_nothing_lost_nothing_twice(fault_stack, surge, CAPACITY)


def test_postgres_restart_during_the_surge(fault_stack):
    surge = surge_with(fault_stack, restarting(fault_stack.postgres, 3))
    assert_nothing_lost_nothing_twice(fault_stack, surge, CAPACITY)
