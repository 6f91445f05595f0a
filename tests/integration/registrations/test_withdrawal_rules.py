"""Issue 18, item 3, against PostgreSQL: a confirmed place is refused once its activity has ended, and the
refusal changes nothing (no transition, no event)."""
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine

from services.registrations.domain.applications import WithdrawalAfterActivity
from services.registrations.store.campaign_directory import record_campaign_event
from services.registrations.store.ledger import locked, transition
from services.registrations.usecases.answers import withdraw
from services.registrations.usecases.ledger import IntakeRecord, record_intake
from shared.events import make_event
from tests.integration.registrations.test_ledger import outbox_types, statuses, submitted
from tests.support.registrations import campaign_snapshot, offer


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def confirmed_application(engine) -> tuple[str, uuid.UUID]:
    snapshot = campaign_snapshot(offers=[offer()])  # the offer runs from 2 to 6 March 2026
    event = make_event("campaign.published", source="/tests", subject="x", data=snapshot)
    data = submitted(snapshot["campaign_id"])
    record_intake(engine, [IntakeRecord(data, 0, 0)])
    application_id = uuid.UUID(data["application_id"])
    with engine.begin() as connection:
        record_campaign_event(connection, event)
        row = locked(connection, application_id, None)
        transition(connection, row, "allocated", None, placed_offer_id=snapshot["offers"][0]["offer_id"])
        transition(connection, {**row, "status": "allocated"}, "confirmed", "accepted by the parent")
    return data["application_id"], application_id


def test_a_confirmed_place_is_given_up_on_the_last_day_but_not_after(engine):
    key, application_id = confirmed_application(engine)
    events_before = outbox_types(engine)
    with pytest.raises(WithdrawalAfterActivity):
        withdraw(engine, "family-1", application_id, datetime(2026, 3, 6, 23, 0, tzinfo=timezone.utc))
    assert statuses(engine)[key] == "confirmed" and outbox_types(engine) == events_before

    withdraw(engine, "family-1", application_id, datetime(2026, 3, 6, 22, 59, tzinfo=timezone.utc))
    assert statuses(engine)[key] == "withdrawn" and outbox_types(engine)[-1] == "application.withdrawn"
