"""Load shedding at intake (issue 15, item 3) against the real broker, database and Redis: a submission beyond
what the process serves at once is answered 503 + Retry-After at once, and leaves no trace at all."""
from services.registrations.bootstrap import RegistrationsComponents
from shared.waiting import wait_until
from tests.support.registrations import campaign_snapshot, offer


def redis_traces(redis_client) -> dict[str, list[str]]:
    """Every key intake writes for a submission, by what it is."""
    patterns = {"pending marker": "reg:pending:*", "idempotency record": "idem:*",
                "application id": "intake:application-id:*", "admission counter": "reg:admit:*",
                "per-IP counter": "reg:ip:*", "child's active application": "reg:*:active:*",
                "place held": "reg:*:held:*", "family's rate": "reg:rate:*"}
    return {what: sorted(redis_client.scan_iter(pattern)) for what, pattern in patterns.items()}


def test_a_shed_submission_gets_503_with_retry_after_and_its_key_works_afterwards(registrations, redis_client):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1)]))
    account, (child,) = registrations.family()
    in_flight = registrations.client.application.extensions[RegistrationsComponents.extension].intake.in_flight
    in_flight.limit = 3  # as INTAKE_MAX_IN_FLIGHT=3 would
    before = redis_traces(redis_client)

    # As under a crowd: the process already serves every submission it holds.
    for _ in range(3):
        in_flight.enter()
    try:
        shed = registrations.submit(account, campaign, child, key="k-crowd", headers_extra={"X-Request-ID": "crowd-1"})
    finally:
        for _ in range(3):
            in_flight.leave()

    assert shed.status_code == 503, shed.json
    assert shed.headers["Content-Type"] == "application/problem+json"
    assert shed.headers["X-Request-ID"] == "crowd-1", "the client's request id is echoed, as on every other answer"
    assert shed.json["code"] == "intake-saturated" and int(shed.headers["Retry-After"]) == shed.json["retry_after"] > 0
    assert redis_traces(redis_client) == before, "a shed request changes nothing in Redis"
    assert in_flight.serving == 0

    accepted = registrations.submit(account, campaign, child, key="k-crowd")
    assert accepted.status_code == 202, accepted.json
    assert accepted.json["hold"]["kind"] == "held", "the place was never taken by the shed request"
    application_id = accepted.json["application_id"]
    wait_until(lambda: registrations.ledger(), timeout=30, what="the accepted application in the ledger")
    assert registrations.ledger() == {application_id: "received"}, "the shed request reached no ledger"
    replay = registrations.submit(account, campaign, child, key="k-crowd")
    assert replay.status_code == 202 and replay.json == accepted.json
