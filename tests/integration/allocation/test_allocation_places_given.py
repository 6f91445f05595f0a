"""offer.places_given: each offer's count of places offered or accepted, announced once per change."""
from services.allocation.handlers.jobs import PlacesAnnouncer
from services.allocation.store.tables import announced_places
from tests.support.allocation import application_of, by_outcome, drawn_campaign


def announce(allocation) -> None:
    PlacesAnnouncer(allocation.engine, allocation.clock).tick()


def test_each_change_of_an_offers_places_is_announced_once_with_a_higher_revision(allocation):
    campaign, received = drawn_campaign(allocation, applications=4, capacity=2)
    offer_id = str(campaign["offers"][0]["offer_id"])
    announce(allocation)
    announce(allocation)  # nothing changed since: nothing more
    (first,) = allocation.announced("offer.places_given")
    assert (first["offer_id"], first["campaign_id"], first["places_given"], first["revision"]) == (
        offer_id, str(campaign["campaign_id"]), 2, 1)

    decided = by_outcome(allocation)
    allocation.clock.advance(hours=1)
    for waiting in decided["waitlisted"]:
        allocation.withdraw(application_of(received, waiting), "waitlisted")
    announce(allocation)
    assert len(allocation.announced("offer.places_given")) == 1  # still 2 given: nothing to say
    allocation.withdraw(application_of(received, decided["allocated"][0]), "allocated")  # nobody left waiting
    announce(allocation)
    announce(allocation)

    later = allocation.announced("offer.places_given")[1:]
    assert [(e["places_given"], e["revision"]) for e in later] == [(1, 2)]
    (row,) = allocation.rows(announced_places)
    assert (row.places_given, row.revision) == (1, 2)
