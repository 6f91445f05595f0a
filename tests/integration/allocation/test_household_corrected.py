"""`household.corrected` (issue 16) travels on the application events' topic for notifications: allocation's consumer
of that topic claims it and changes nothing, in the same batch as the applications it keeps. Real PostgreSQL."""
from datetime import datetime, timezone

from services.allocation.store.tables import applications, inbox
from shared.events import contract_for
from tests.support.allocation import a_campaign, an_application, event


def test_a_household_correction_is_claimed_and_changes_nothing_beside_an_application(allocation):
    campaign = allocation.publish(a_campaign())
    allocation.open(campaign)
    application = an_application(campaign, arrival=1)
    corrected = event("household.corrected", {**contract_for("household.corrected").example,
                                              "family_account": application["family_account"],
                                              "at": datetime(2026, 2, 20, 10, tzinfo=timezone.utc)})

    allocation.application_events(corrected, event("application.received", application), corrected)

    assert allocation.count(applications) == 1
    assert allocation.count(inbox, inbox.c.event_id == corrected.id) == 1
    assert allocation.announced("household.corrected") == []
