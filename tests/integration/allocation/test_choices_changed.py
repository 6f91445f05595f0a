"""Issue 20: allocation's copy of an application takes the family's new choices (`application.choices_changed`)
until the draw; redelivered, the event changes nothing more; arriving after the draw, it is ignored (logged)."""
import logging
from datetime import timedelta

from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.store.tables import applications, decisions
from tests.support.allocation import a_campaign, an_application, an_offer, event


def choices_changed(allocation, application: dict, *offers: dict, keep_with: tuple = ()):
    return event("application.choices_changed", {
        "application_id": application["application_id"], "campaign_id": application["campaign_id"],
        "family_account": application["family_account"], "choices": [o["offer_id"] for o in offers],
        "keep_with_applications": list(keep_with), "previous_choices": application["choices"],
        "at": allocation.clock()})


def copy_of(allocation, application: dict):
    (row,) = allocation.rows(applications, applications.c.application_id == application["application_id"])
    return row


def test_the_new_choices_replace_the_copy_and_a_redelivery_changes_nothing(allocation):
    judo, voile = an_offer(title="Judo"), an_offer(title="Voile")
    campaign = allocation.publish(a_campaign(offers=[judo, voile]))
    allocation.open(campaign)
    elder, younger = (an_application(campaign, judo, arrival=n, family="family-a") for n in (1, 2))
    allocation.receive(elder, younger)

    changed = choices_changed(allocation, younger, voile, judo, keep_with=(elder["application_id"],))
    allocation.application_events(changed)
    allocation.application_events(changed)

    copy = copy_of(allocation, younger)
    assert copy.choices == [voile["offer_id"], judo["offer_id"]]
    assert copy.keep_with_applications == [elder["application_id"]] and copy.arrival_position == 2
    assert copy_of(allocation, elder).choices == [judo["offer_id"]]


def test_after_the_draw_the_event_is_ignored_and_logged(allocation, caplog):
    judo, voile = an_offer(title="Judo", capacity=1), an_offer(title="Voile")
    campaign = allocation.publish(a_campaign(offers=[judo, voile]))
    allocation.open(campaign)
    received = [an_application(campaign, judo, arrival=n) for n in range(3)]
    allocation.receive(*received)
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    assert allocation.count(decisions) == 3

    with caplog.at_level(logging.WARNING, logger="services.allocation.handlers.events"):
        allocation.application_events(choices_changed(allocation, received[0], voile))
    assert copy_of(allocation, received[0]).choices == [judo["offer_id"]]
    assert any(r.message.startswith("choices change ignored") for r in caplog.records)
