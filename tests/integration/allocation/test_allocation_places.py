"""After the draw: answers, expiry and withdrawals; each freed place goes to the waitlist at once."""
from datetime import timedelta
from uuid import UUID

from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.store.tables import places
from services.allocation.usecases.expiry import expire_overdue
from tests.support.allocation import a_campaign, an_application, an_offer, application_of, by_outcome, drawn_campaign


def first_waiting(allocation) -> dict:
    return min(by_outcome(allocation)["waitlisted"], key=lambda decision: decision["waitlist"][0]["position"])


def test_a_declined_place_goes_at_once_to_the_first_child_waiting(allocation):
    campaign, received = drawn_campaign(allocation, applications=4, capacity=2)
    decided = by_outcome(allocation)
    placed, waiting = decided["allocated"][0], first_waiting(allocation)
    allocation.clock.advance(hours=1)
    allocation.answer("offer.declined", application_of(received, placed), placed["offer_id"])
    allocation.answer("offer.declined", application_of(received, placed), placed["offer_id"])  # redelivered

    (promoted,) = allocation.announced("waitlist.promoted")
    assert promoted["application_id"] == waiting["application_id"]
    assert promoted["freed_by_application_id"] == placed["application_id"]
    assert promoted["offer_expires_at"] == (allocation.clock() + timedelta(hours=72)).isoformat()
    offer_id = UUID(placed["offer_id"])
    assert allocation.count(places, places.c.offer_id == offer_id, places.c.state.in_(["offered", "accepted"])) == 2


def test_an_accepted_place_is_billed_once_at_the_familys_tranche(allocation):
    campaign = allocation.publish(a_campaign(offers=[an_offer(capacity=2)]))
    allocation.open(campaign)
    with_quotient = an_application(campaign, arrival=1, quotient_tranche=3, first_name="Inès")
    without_quotient = an_application(campaign, arrival=2, quotient_tranche=None, first_name="Noé")
    allocation.receive(with_quotient, without_quotient)
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    offer_id = campaign["offers"][0]["offer_id"]
    for application in (with_quotient, without_quotient, with_quotient):
        allocation.answer("offer.accepted", application, offer_id)

    lines = {line["child_name"]: line for line in allocation.announced("registration.confirmed")}
    assert len(allocation.announced("registration.confirmed")) == 2
    assert (lines["Inès Martin"]["quotient_tranche"], lines["Inès Martin"]["unit_price_cents"]) == (3, 600)
    assert (lines["Noé Martin"]["quotient_tranche"], lines["Noé Martin"]["unit_price_cents"]) == (10, 1300)
    assert lines["Inès Martin"]["line_id"] == f"reg-{with_quotient['application_id']}"
    assert (lines["Inès Martin"]["period_start"], lines["Inès Martin"]["period_end"]) == ("2026-03-02", "2026-03-06")
    assert lines["Noé Martin"]["family_account"] == without_quotient["family_account"]


def test_a_place_not_accepted_expires_after_the_grace_and_goes_to_the_waitlist(allocation):
    campaign, received = drawn_campaign(allocation, applications=3, capacity=1)
    (placed,) = by_outcome(allocation)["allocated"]
    waiting = first_waiting(allocation)
    grace = timedelta(minutes=5)
    allocation.clock.advance(hours=72, minutes=4)
    assert expire_overdue(allocation.engine, allocation.clock(), grace) == 0, "expired within the grace period"

    allocation.clock.advance(minutes=2)
    assert expire_overdue(allocation.engine, allocation.clock(), grace) == 1
    (expired,) = allocation.announced("offer.expired")
    assert expired["application_id"] == placed["application_id"]
    (promoted,) = allocation.announced("waitlist.promoted")
    assert promoted["application_id"] == waiting["application_id"]
    # An acceptance arriving after that changes nothing and bills nothing.
    allocation.answer("offer.accepted", application_of(received, placed), placed["offer_id"])
    assert allocation.announced("registration.confirmed") == []
    assert expire_overdue(allocation.engine, allocation.clock(), grace) == 0


def test_withdrawing_a_confirmed_place_credits_it_back_and_frees_it(allocation):
    campaign, received = drawn_campaign(allocation, applications=3, capacity=1)
    (placed,) = by_outcome(allocation)["allocated"]
    application = application_of(received, placed)
    allocation.answer("offer.accepted", application, placed["offer_id"])
    allocation.clock.advance(days=2)
    allocation.withdraw(application, previous_status="confirmed")

    (confirmed,) = allocation.announced("registration.confirmed")
    (credit,) = allocation.announced("registration.cancelled")
    assert credit["reverses_line_id"] == confirmed["line_id"] and credit["quantity"] == -1
    assert credit["unit_price_cents"] == confirmed["unit_price_cents"]
    assert credit["cancelled_at"] == allocation.clock().isoformat()
    (promoted,) = allocation.announced("waitlist.promoted")
    assert promoted["application_id"] == first_waiting(allocation)["application_id"]


def test_a_withdrawn_waitlisted_child_is_passed_over(allocation):
    campaign, received = drawn_campaign(allocation, applications=4, capacity=1)
    (placed,) = by_outcome(allocation)["allocated"]
    line = sorted(by_outcome(allocation)["waitlisted"], key=lambda d: d["waitlist"][0]["position"])
    allocation.withdraw(application_of(received, line[0]), previous_status="waitlisted")
    allocation.answer("offer.declined", application_of(received, placed), placed["offer_id"])
    (promoted,) = allocation.announced("waitlist.promoted")
    assert promoted["application_id"] == line[1]["application_id"]


def test_places_added_after_the_draw_go_to_the_waitlist_in_its_order(allocation):
    campaign, _ = drawn_campaign(allocation, applications=4, capacity=1)
    line = sorted(by_outcome(allocation)["waitlisted"], key=lambda d: d["waitlist"][0]["position"])
    allocation.campaign_event("campaign.updated", {**campaign, "version": 2,
                                                   "offers": [{**campaign["offers"][0], "capacity": 3}]})
    promoted = [p["application_id"] for p in allocation.announced("waitlist.promoted")]
    assert promoted == [line[0]["application_id"], line[1]["application_id"]]
