"""1,000 concurrent submissions with retries and duplicates: nothing lost, nothing twice, no overbooking."""
import random
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from shared.waiting import wait_until
from tests.support.registrations import campaign_snapshot, offer

CAPACITY = 30
WAITLIST = 100
CHILDREN = 700


def test_surge_of_submissions_keeps_every_202_once_and_exactly_capacity_holds(registrations):
    campaign = registrations.publish_campaign(
        campaign_snapshot(mode="fcfs", offers=[offer(capacity=CAPACITY, waitlist_limit=WAITLIST)]))
    families = [registrations.family() for _ in range(CHILDREN)]
    rng = random.Random(20260209)
    attempts = []
    for account, (child,) in families:
        key = uuid.uuid4().hex
        attempts.append((account, child, key))
        if rng.random() < 0.25:
            attempts.append((account, child, key))           # a retry with the same key
        if rng.random() < 0.15:
            attempts.append((account, child, uuid.uuid4().hex))  # a double click that made a new key
    rng.shuffle(attempts)
    assert len(attempts) > 900

    def submit(attempt):
        account, child, key = attempt
        response = registrations.submit(account, campaign, child, key=key)
        return response.status_code, response.json

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(submit, attempts))

    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {202, 409}, statuses
    accepted = {body["application_id"]: body for status, body in results if status == 202}
    refusals = Counter(body["code"] for status, body in results if status == 409)
    assert set(refusals) <= {"already-applied", "campaign-full", "idempotency-key-in-flight"}, refusals

    holds = Counter(body["hold"]["kind"] for body in accepted.values())
    assert holds["held"] == CAPACITY
    assert holds["waitlisted"] == WAITLIST
    positions = sorted(body["hold"]["position"] for body in accepted.values() if body["hold"]["kind"] == "waitlisted")
    assert positions == list(range(1, WAITLIST + 1))

    wait_until(lambda: len(registrations.ledger()) >= len(accepted), timeout=60, what="every 202 in the ledger")
    ledger = registrations.ledger()
    assert set(ledger) == set(accepted)
    assert set(ledger.values()) == {"received"}
