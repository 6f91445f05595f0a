"""One campaign's intake spread over the intake log's partitions (records keyed by family), its arrival order
taken in Redis with the holds, and its ledger written by two consumers of one group, one of them killed in the
middle of a batch — on the real broker, PostgreSQL and Redis.

"Positions as the draw reads them": the arrival rank, the order of `arrival_position` with the application id
breaking ties (docs/allocation.md, tie-breaks), computed here in SQL over the campaign's ledger rows."""
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from services.registrations.app import create_app
from services.registrations.settings import RegistrationsSettings
from services.registrations.store.guard_rebuild import REBUILDS_KEY
from services.registrations.store.intake_gate import arrival_sequence_key
from services.registrations.store.intake_guard import READY_KEY, held_key
from services.registrations.worker import intake_group
from tests.support import ledger_consumer
from tests.support.registrations import campaign_snapshot, offer
from tests.support.workers import eventually

CAPACITY = 40
FAMILIES = 240


def ranked(engine, campaign_id) -> list[dict]:
    """The campaign's ledger rows in arrival order, each with its rank as the draw reads it."""
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(text(
            "SELECT application_id::text AS application_id, arrival_position, intake_partition, hold, "
            "row_number() OVER (ORDER BY arrival_position, application_id::text) AS rank "
            "FROM registrations.applications WHERE campaign_id = :c ORDER BY rank"), {"c": campaign_id}).mappings()]


def test_two_consumers_one_killed_mid_batch_write_one_campaign_once_in_arrival_order(registrations, redis_client,
                                                                                     tmp_path):
    campaign = registrations.publish_campaign(
        campaign_snapshot(mode="fcfs", offers=[offer(capacity=CAPACITY, waitlist_limit=FAMILIES)]))
    campaign_id, offer_id = campaign["campaign_id"], campaign["offers"][0]["offer_id"]
    settings, engine = registrations.settings, registrations.runtime.engine
    families = [registrations.family() for _ in range(FAMILIES)]

    # A second ledger writer joins the worker's group; its 3rd batch stops before its commit, to be killed there.
    stall_file = tmp_path / "stalled-batch.json"
    second = ledger_consumer.start(settings, stall_file, stall_at=3)
    try:
        eventually(lambda: ledger_consumer.members_with_partitions(settings, intake_group(settings)) == 2,
                   timeout=90, what="two ledger consumers sharing the intake log")

        def submit(family):
            account, (child,) = family
            return registrations.submit(account, campaign, child)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(submit, families))
        assert Counter(a.status_code for a in answers) == {202: FAMILIES}
        accepted = {a.json["application_id"]: a.json["hold"] for a in answers}

        stalled = json.loads(eventually(lambda: stall_file.exists() and stall_file.read_text(), timeout=60,
                                        what="the second consumer inside a batch's transaction"))
        assert stalled
        second.kill()  # SIGKILL inside the transaction: neither the rows nor the offsets are committed
        second.wait(timeout=30)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait(timeout=30)

    # The worker's consumer takes the killed one's partitions over and writes what it left, the stalled batch too.
    rows = eventually(lambda: (found := ranked(engine, campaign_id)) and len(found) >= FAMILIES and found,
                      timeout=120, what="every 202 in the ledger")
    assert sorted(row["application_id"] for row in rows) == sorted(accepted)  # each exactly once
    assert set(stalled) <= set(accepted)
    assert len({row["intake_partition"] for row in rows}) >= 2, "one campaign spread over the partitions"

    positions = [row["arrival_position"] for row in rows]
    assert len(set(positions)) == len(positions), "an arrival number given twice"
    assert [row["rank"] for row in rows] == list(range(1, FAMILIES + 1))
    # Arrival order is the order Redis held places in, whatever partition or consumer wrote the row.
    holds = [row["hold"] for row in rows]
    assert [hold["kind"] for hold in holds] == ["held"] * CAPACITY + ["waitlisted"] * (FAMILIES - CAPACITY)
    assert [hold["position"] for hold in holds[CAPACITY:]] == list(range(1, FAMILIES - CAPACITY + 1))
    assert all(accepted[row["application_id"]] == row["hold"] for row in rows)
    assert int(redis_client.get(held_key(campaign_id, offer_id))) == CAPACITY

    # Redis loses everything: the keeper rebuilds once, and the campaign's numbers go on above the ledger's.
    redis_client.flushdb()
    eventually(lambda: redis_client.exists(READY_KEY), timeout=60, what="the guard rebuilt from the ledger")
    assert int(redis_client.get(arrival_sequence_key(campaign_id))) == max(positions)
    assert redis_client.get(REBUILDS_KEY) == "1"
    account, (child,) = registrations.family()
    late = registrations.submit(account, campaign, child)
    assert late.status_code == 202 and late.json["hold"] == {"kind": "waitlisted", "offer_id": str(offer_id),
                                                              "position": FAMILIES - CAPACITY + 1}
    last = eventually(lambda: (found := ranked(engine, campaign_id)) and len(found) > FAMILIES and found[-1],
                      timeout=60, what="the late application in the ledger")
    assert last["application_id"] == late.json["application_id"] and last["arrival_position"] == max(positions) + 1


def test_a_number_taken_by_a_submission_that_never_reached_the_broker_leaves_a_hole_not_a_gap(registrations,
                                                                                               make_settings):
    campaign = registrations.publish_campaign(campaign_snapshot())
    broken = create_app(make_settings("registrations", RegistrationsSettings, kafka_bootstrap_servers="127.0.0.1:1"))
    families = [registrations.family() for _ in range(3)]

    def body(child):
        return {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child),
                "choices": [str(campaign["offers"][0]["offer_id"])], "sworn_statement": True}

    first = registrations.submit(families[0][0], campaign, families[0][1][0])
    headers = {"Authorization": f"Bearer {registrations.token_for('parent', families[1][0])}", "Idempotency-Key": "k"}
    refused = broken.test_client().post("/applications", json=body(families[1][1][0]), headers=headers)
    assert refused.status_code == 503  # its number was taken, then its record never left
    third = registrations.submit(families[2][0], campaign, families[2][1][0])
    assert first.status_code == third.status_code == 202
    broken.extensions["guichet.runtime"].close()

    rows = eventually(lambda: (found := ranked(registrations.runtime.engine, campaign["campaign_id"]))
                      and len(found) == 2 and found, timeout=60, what="both applications in the ledger")
    assert [row["application_id"] for row in rows] == [first.json["application_id"], third.json["application_id"]]
    assert [row["arrival_position"] for row in rows] == [1, 3]  # the hole in the numbers
    assert [row["rank"] for row in rows] == [1, 2]  # none in the ranks the draw reads
