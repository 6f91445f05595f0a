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
