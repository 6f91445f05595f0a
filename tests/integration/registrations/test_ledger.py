"""The ledger writer and the guard rebuild, against a real PostgreSQL and Redis."""
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, select

from services.registrations.domain.applications import ApplicationStatus, TransitionRefused
from services.registrations.store.guard_rebuild import REBUILD_LEASE_KEY, rebuild_from_ledger
from services.registrations.store.intake_guard import READY_KEY, active_key, held_key
from services.registrations.store.tables import applications, outbox
from services.registrations.usecases.answers import withdraw
from services.registrations.usecases.ledger import IntakeRecord, record_intake


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def submitted(campaign_id, child_id=None, hold=None, family="family-1"):
    return {
        "application_id": str(uuid.uuid4()), "campaign_id": str(campaign_id), "family_account": family,
        "child": {"child_id": str(child_id or uuid.uuid4()), "first_name": "Inès", "last_name": "Martin",
                  "birth_date": "2016-05-14", "disability_allowance": False, "school": None},
        "household": {"single_parent": False, "quotient_tranche": 4, "quotient_justified_on": "2025-09-30",
                      "residence_arrondissement": 11, "postal_mail": False},
        "choices": [str(uuid.uuid4())], "keep_with_applications": [], "sworn_statement": True,
        "submitted_at": datetime(2026, 2, 8, 23, 1, tzinfo=timezone.utc).isoformat(),
        "hold": hold or {"kind": "none", "offer_id": None, "position": None},
    }


def statuses(engine):
    with engine.connect() as connection:
        return {str(r.application_id): r.status for r in connection.execute(select(applications))}


def outbox_types(engine):
    with engine.connect() as connection:
        return [r.event_type for r in connection.execute(select(outbox.c.event_type).order_by(outbox.c.position))]


def test_batch_is_recorded_with_arrival_positions_and_events(engine):
    campaign = uuid.uuid4()
    batch = [IntakeRecord(submitted(campaign), partition=3, offset=n) for n in range(5)]
    recorded = record_intake(engine, batch)
    assert len(recorded) == 5
    with engine.connect() as connection:
        positions = connection.execute(select(applications.c.arrival_position)
                                       .order_by(applications.c.arrival_position)).scalars().all()
    assert positions == [0, 1, 2, 3, 4]
    assert outbox_types(engine) == ["application.received"] * 5


def test_redelivered_records_change_nothing(engine):
    campaign = uuid.uuid4()
    batch = [IntakeRecord(submitted(campaign), partition=0, offset=n) for n in range(3)]
    record_intake(engine, batch)
    assert record_intake(engine, batch + batch) == []
    assert len(statuses(engine)) == 3
    assert len(outbox_types(engine)) == 3


def test_second_active_application_of_a_child_is_rejected_not_lost(engine):
    campaign, child = uuid.uuid4(), uuid.uuid4()
    first, second = submitted(campaign, child), submitted(campaign, child)
    record_intake(engine, [IntakeRecord(first, 0, 0), IntakeRecord(second, 0, 1)])
    assert statuses(engine) == {first["application_id"]: "received", second["application_id"]: "rejected"}


def test_withdrawal_follows_the_state_machine_and_emits_an_event(engine):
    campaign = uuid.uuid4()
    data = submitted(campaign)
    record_intake(engine, [IntakeRecord(data, 0, 0)])
    application_id = uuid.UUID(data["application_id"])
    withdraw(engine, "family-1", application_id, datetime.now(timezone.utc))
    assert statuses(engine)[data["application_id"]] == ApplicationStatus.WITHDRAWN
    assert outbox_types(engine)[-1] == "application.withdrawn"
    with pytest.raises(TransitionRefused):
        withdraw(engine, "family-1", application_id, datetime.now(timezone.utc))


def test_guard_is_rebuilt_from_active_ledger_rows_only(engine, redis_client):
    campaign, offer = uuid.uuid4(), uuid.uuid4()
    held = {"kind": "held", "offer_id": str(offer), "position": None}
    kept, withdrawn = submitted(campaign, hold=held), submitted(campaign, hold=held)
    record_intake(engine, [IntakeRecord(kept, 0, 0), IntakeRecord(withdrawn, 0, 1)])
    withdraw(engine, "family-1", uuid.UUID(withdrawn["application_id"]), datetime.now(timezone.utc))
    redis_client.set(held_key(campaign, offer), 99)  # a stale count that must not survive

    assert rebuild_from_ledger(engine, redis_client) == 1
    assert redis_client.get(held_key(campaign, offer)) == "1"
    assert redis_client.get(active_key(campaign, kept["child"]["child_id"])).startswith(kept["application_id"] + "|held|")
    assert redis_client.get(active_key(campaign, withdrawn["child"]["child_id"])) is None
    assert redis_client.exists(READY_KEY)


def test_two_workers_never_rebuild_the_guard_twice(engine, redis_client):
    campaign, offer = uuid.uuid4(), uuid.uuid4()
    held = {"kind": "held", "offer_id": str(offer), "position": None}
    record_intake(engine, [IntakeRecord(submitted(campaign, hold=held), 0, 0)])

    other_worker = redis_client.lock(REBUILD_LEASE_KEY, timeout=30, blocking=False)
    assert other_worker.acquire()  # as if the other replica were reading the ledger right now
    assert rebuild_from_ledger(engine, redis_client) is None
    assert not redis_client.exists(READY_KEY) and redis_client.get(held_key(campaign, offer)) is None
    other_worker.release()

    assert rebuild_from_ledger(engine, redis_client) == 1
    redis_client.incr(held_key(campaign, offer))  # intake admits a family once the guard is back
    # The slower replica's turn comes after: it must leave the guard, and intake's count, alone.
    assert rebuild_from_ledger(engine, redis_client) is None
    assert redis_client.get(held_key(campaign, offer)) == "2"


def test_a_rebuild_whose_lease_ran_out_writes_nothing(engine, redis_client, monkeypatch):
    from services.registrations.store import guard_rebuild

    campaign, offer = uuid.uuid4(), uuid.uuid4()
    held = {"kind": "held", "offer_id": str(offer), "position": None}
    record_intake(engine, [IntakeRecord(submitted(campaign, hold=held), 0, 0)])
    reading_the_ledger = guard_rebuild.counted_position

    def slow_reading(row):
        # The lease expires while this worker reads the ledger, and another replica takes it.
        redis_client.delete(REBUILD_LEASE_KEY)
        redis_client.set(REBUILD_LEASE_KEY, "the-other-replica", ex=30)
        return reading_the_ledger(row)

    monkeypatch.setattr(guard_rebuild, "counted_position", slow_reading)
    assert rebuild_from_ledger(engine, redis_client) is None
    assert not redis_client.exists(READY_KEY) and redis_client.get(held_key(campaign, offer)) is None
    assert redis_client.get(REBUILD_LEASE_KEY) == "the-other-replica"


def test_arrival_positions_are_intakes_numbers_whatever_the_partition(engine):
    campaign = uuid.uuid4()
    numbered = [IntakeRecord({**submitted(campaign), "arrival_number": number}, partition, offset)
                for number, partition, offset in ((2, 7, 0), (1, 3, 5), (4, 7, 1))]
    before_numbers = IntakeRecord(submitted(uuid.uuid4()), 0, 41)  # in the log from before intake took numbers
    record_intake(engine, [*numbered, before_numbers])
    with engine.connect() as connection:
        rows = connection.execute(select(applications.c.application_id, applications.c.arrival_position,
                                         applications.c.intake_partition)).all()
    where = {str(row.application_id): (row.arrival_position, row.intake_partition) for row in rows}
    assert [where[r.data["application_id"]] for r in numbered] == [(2, 7), (1, 3), (4, 7)]
    assert where[before_numbers.data["application_id"]] == (41, 0)


def test_two_keepers_running_together_rebuild_the_guard_once(database_url, redis_url, redis_client):
    """Two registrations workers' keepers, each with its own Redis client and database engine, find the guard
    missing at the same moment, again and again: each loss is rebuilt once (the rebuild counts itself)."""
    import threading

    import redis

    from services.registrations.handlers.guard_keeper import GuardKeeper
    from services.registrations.store.guard_rebuild import REBUILDS_KEY

    campaign, offer = uuid.uuid4(), uuid.uuid4()
    held = {"kind": "held", "offer_id": str(offer), "position": None}
    setup = create_engine(database_url)
    record_intake(setup, [IntakeRecord(submitted(campaign, hold=held, family=f"family-{n}"), n % 4, n)
                          for n in range(2000)])  # a ledger that takes a moment to read
    setup.dispose()
    clients = [redis.Redis.from_url(redis_url, decode_responses=True) for _ in range(2)]
    engines = [create_engine(database_url) for _ in range(2)]
    keepers = [GuardKeeper(engine, client, intake_lag=lambda: 0, grace_seconds=0) for engine, client
               in zip(engines, clients)]
    try:
        for loss in range(1, 6):
            redis_client.delete(READY_KEY, held_key(campaign, offer))  # the guard lost, the count with it
            start = threading.Barrier(2)

            def keep(keeper, start=start):
                start.wait()
                while not keeper.check_once():
                    pass

            threads = [threading.Thread(target=keep, args=(keeper,)) for keeper in keepers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert redis_client.get(REBUILDS_KEY) == str(loss)
            assert redis_client.get(held_key(campaign, offer)) == "2000"
    finally:
        for engine in engines:
            engine.dispose()
        for client in clients:
            client.close()


def test_the_rebuild_resumes_each_campaigns_arrival_numbers_above_the_ledger(engine, redis_client):
    from services.registrations.store.intake_gate import arrival_sequence_key

    campaign, other = uuid.uuid4(), uuid.uuid4()
    record_intake(engine, [IntakeRecord({**submitted(campaign), "arrival_number": n}, n % 3, n) for n in (1, 2, 5)]
                  + [IntakeRecord(submitted(other), 0, 12)])
    withdraw(engine, "family-1", uuid.UUID(_row_at(engine, campaign, 5)), datetime.now(timezone.utc))

    redis_client.flushdb()  # Redis lost whole: numbers resume above every one the ledger holds, withdrawn or not
    assert rebuild_from_ledger(engine, redis_client) == 3
    assert redis_client.get(arrival_sequence_key(campaign)) == "5"
    assert redis_client.get(arrival_sequence_key(other)) == "12"

    redis_client.set(arrival_sequence_key(campaign), 9)  # numbers taken whose records are not in the ledger yet
    redis_client.delete(READY_KEY)  # only the marker lost (by hand, after an unclean restart): Redis's higher count stays
    assert rebuild_from_ledger(engine, redis_client) == 3
    assert redis_client.get(arrival_sequence_key(campaign)) == "9"


def _row_at(engine, campaign_id, position) -> str:
    with engine.connect() as connection:
        return str(connection.execute(select(applications.c.application_id).where(
            applications.c.campaign_id == campaign_id, applications.c.arrival_position == position)).scalar_one())


def test_a_batch_checks_its_first_submission_in_full_and_a_broken_one_alone_is_refused(engine):
    """The intake consumer checks a batch's first record against the contract and the others by their envelope;
    the ledger's row still parses each id, so a later record with a broken id fails the batch, and taken alone (as
    the consumer takes a failed batch's records) it is refused by its contract and nothing of it is written."""
    from types import SimpleNamespace

    from services.registrations.handlers.events import handle_submissions
    from shared.events import Event, EventError

    campaign = uuid.uuid4()

    def record(data, offset):
        event = Event(type="application.submitted", source="/tests", subject=f"applications/{data['application_id']}",
                      data={**data, "acted_by_agent": False, "agent_reason": None, "agent_subject": None,
                            "arrival_number": offset + 1})
        return SimpleNamespace(value=event.to_dict(), partition=0, offset=offset)

    good, broken = submitted(campaign), {**submitted(campaign), "choices": ["not-an-offer-id"]}
    with pytest.raises(ValueError):
        handle_submissions(engine, [record(good, 0), record(broken, 1)])
    with pytest.raises(EventError):
        handle_submissions(engine, [record(broken, 1)])
    assert statuses(engine) == {}
    handle_submissions(engine, [record(good, 0)])
    assert statuses(engine) == {good["application_id"]: "received"}
