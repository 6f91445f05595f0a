"""A partition's polled records in one transaction (a draw's 100,000 decisions): each event applied once, whether
redelivered after being applied or twice in the batch; a record that cannot be applied changes nothing of its
batch (the consumer then takes the records one by one)."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from services.notifications.handlers.events import handle_records
from services.notifications.store.tables import notifications as queued
from services.notifications.store.tables import open_offers
from shared.events import EventError
from tests.support.notifications import event


def record(an_event) -> SimpleNamespace:
    return SimpleNamespace(value=an_event.to_dict())


def decided(notifications, account, campaign, outcome: str):
    application_id = notifications.received(account, campaign)
    allocated = outcome == "allocated"
    return event("allocation.decided", application_id=application_id, family_account=account,
                 campaign_id=campaign["campaign_id"], outcome=outcome,
                 offer_id=campaign["offers"][0]["offer_id"] if allocated else None,
                 offer_expires_at=(notifications.clock() + timedelta(days=3)).isoformat()
                 if allocated else None, reasons=[] if allocated else ["too_old"])


def told(notifications, *events) -> list[str]:
    with notifications.engine.connect() as connection:
        return connection.execute(select(queued.c.cause_event_id).where(
            queued.c.cause_event_id.in_([each.id for each in events])).order_by(queued.c.cause_event_id)).scalars().all()


def test_a_batch_applies_each_event_once_redelivered_or_repeated(notifications):
    account = notifications.household()
    campaign = notifications.published_campaign()
    placed, rejected = decided(notifications, account, campaign, "allocated"), decided(notifications, account, campaign,
                                                                                      "rejected")
    notifications.apply(placed)  # applied before: this batch redelivers it

    handle_records(notifications.engine, notifications.clock, [record(placed), record(rejected), record(rejected)])

    assert told(notifications, placed, rejected) == sorted([placed.id, rejected.id])
    with notifications.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(open_offers).where(
            open_offers.c.application_id == placed.data["application_id"])).scalar_one() == 1


def test_a_record_that_cannot_be_applied_leaves_its_batch_unapplied(notifications):
    account = notifications.household()
    campaign = notifications.published_campaign()
    placed = decided(notifications, account, campaign, "allocated")
    broken = {**placed.to_dict(), "id": "another", "data": {**placed.to_dict()["data"], "outcome": 7}}

    with pytest.raises(EventError):
        handle_records(notifications.engine, notifications.clock, [SimpleNamespace(value=broken), record(placed)])

    assert told(notifications, placed) == []
