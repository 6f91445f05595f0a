"""Issue 18, item 4, in allocation's handlers on a real database: a lottery campaign is drawn as soon as
it is closed and registrations announced that intake drained past the close, not before; the fixed wait
is only the fallback; a redelivered announcement changes nothing."""
from datetime import timedelta

from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.store.repository import published_run
from tests.support.allocation import a_campaign, an_application, event

FALLBACK = timedelta(minutes=5)


def intake_closed(campaign: dict, allocation) -> object:
    return event("application.intake_closed", {"campaign_id": campaign["campaign_id"],
                                               "closed_at": allocation.clock(), "drained_at": allocation.clock()})


def drawn(allocation, campaign) -> bool:
    with allocation.engine.connect() as connection:
        return published_run(connection, campaign["campaign_id"]) is not None


def test_the_draw_starts_once_intake_drained_past_the_close_and_not_before(allocation):
    scheduler = DrawScheduler(allocation.engine, allocation.clock, delay=FALLBACK)
    campaign = allocation.publish(a_campaign())
    allocation.open(campaign)
    allocation.receive(*(an_application(campaign, arrival=n) for n in range(3)))
    allocation.close(campaign)
    scheduler.tick()
    assert not drawn(allocation, campaign)  # closed, but the ledger may still be writing applications

    late = an_application(campaign, arrival=3)  # acknowledged before the close, written to the ledger after
    announcement = intake_closed(campaign, allocation)
    allocation.application_events(event("application.received", late), announcement)
    allocation.clock.advance(seconds=1)
    scheduler.tick()
    assert drawn(allocation, campaign)
    decided = {decision["application_id"] for decision in allocation.announced("allocation.decided")}
    assert str(late["application_id"]) in decided and len(decided) == 4

    allocation.application_events(announcement)  # redelivered: nothing more
    scheduler.tick()
    assert len(allocation.announced("allocation.decided")) == 4


def test_an_announcement_before_allocation_saw_the_close_waits_for_the_close(allocation):
    scheduler = DrawScheduler(allocation.engine, allocation.clock, delay=FALLBACK)
    campaign = allocation.publish(a_campaign())
    allocation.open(campaign)
    allocation.receive(an_application(campaign, arrival=0))
    allocation.application_events(intake_closed(campaign, allocation))  # the two topics are read apart
    scheduler.tick()
    assert not drawn(allocation, campaign)
    allocation.close(campaign)
    scheduler.tick()
    assert drawn(allocation, campaign)


def test_without_the_announcement_the_draw_waits_the_fallback(allocation):
    scheduler = DrawScheduler(allocation.engine, allocation.clock, delay=FALLBACK)
    campaign = allocation.publish(a_campaign())
    allocation.open(campaign)
    allocation.receive(an_application(campaign, arrival=0))
    allocation.close(campaign)
    allocation.clock.advance(minutes=4, seconds=59)
    scheduler.tick()
    assert not drawn(allocation, campaign)
    allocation.clock.advance(seconds=1)
    scheduler.tick()
    assert drawn(allocation, campaign)


def test_a_city_that_reviews_first_publishes_itself_and_only_the_fallback_draws_a_forgotten_campaign(allocation):
    scheduler = DrawScheduler(allocation.engine, allocation.clock, delay=FALLBACK, when_intake_drained=False)
    campaign = allocation.publish(a_campaign())
    allocation.open(campaign)
    allocation.receive(an_application(campaign, arrival=0))
    allocation.close(campaign)
    allocation.application_events(intake_closed(campaign, allocation))
    allocation.clock.advance(minutes=4, seconds=59)
    scheduler.tick()
    assert not drawn(allocation, campaign)  # drained, but the managers review a simulation first
    allocation.clock.advance(seconds=1)
    scheduler.tick()
    assert drawn(allocation, campaign)
