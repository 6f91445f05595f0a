"""What allocation knows of families: earlier campaigns of the same kind, and siblings applying together."""
from datetime import datetime, timedelta, timezone
from uuid import uuid4

from services.allocation.handlers.jobs import DrawScheduler
from tests.support.allocation import a_campaign, an_application, an_offer


def draw(allocation, campaign: dict, *applications: dict) -> None:
    allocation.publish(campaign)
    allocation.open(campaign)
    allocation.receive(*applications)
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()


def explanation(parent, application: dict) -> dict:
    return parent(application["family_account"], f"/explanations/{application['application_id']}").json


def test_a_child_not_placed_last_time_gets_its_priority_and_extra_tickets(allocation, parent):
    unlucky, lucky = uuid4(), uuid4()
    last_winter = a_campaign(offers=[an_offer(capacity=1)], opens_at=datetime(2025, 2, 1, tzinfo=timezone.utc),
                             closes_at=datetime(2025, 2, 27, tzinfo=timezone.utc))
    # The unlucky child applies alone to a full offer; the lucky one gets the only place.
    full = an_offer(capacity=0)
    last_winter["offers"].append(full)
    draw(allocation, last_winter, an_application(last_winter, full, arrival=1, child_id=unlucky),
         an_application(last_winter, last_winter["offers"][0], arrival=2, child_id=lucky))
    other_kind = a_campaign(kind="centre_loisirs_mercredi", offers=[an_offer(capacity=0)],
                            opens_at=datetime(2025, 9, 1, tzinfo=timezone.utc),
                            closes_at=datetime(2025, 9, 20, tzinfo=timezone.utc))
    draw(allocation, other_kind, an_application(other_kind, arrival=1, child_id=lucky))

    this_winter = a_campaign("priority_lottery", offers=[an_offer(capacity=5)], lottery_weight=2,
                             criteria=[{"name": "not_placed_previous_campaign"}])
    again_unlucky = an_application(this_winter, arrival=1, child_id=unlucky)
    again_lucky = an_application(this_winter, arrival=2, child_id=lucky)
    draw(allocation, this_winter, again_unlucky, again_lucky)

    unlucky_now, lucky_now = explanation(parent, again_unlucky), explanation(parent, again_lucky)
    assert (unlucky_now["tickets"], unlucky_now["choices"][0]["criteria_met"]) == (3, ["not_placed_previous_campaign"])
    # A campaign of another kind does not count, and a place offered is a success.
    assert (lucky_now["tickets"], lucky_now["choices"][0]["criteria_met"]) == (1, [])


def test_siblings_who_asked_to_stay_together_are_allocated_as_one(allocation, parent):
    judo = an_offer(capacity=2)
    campaign = a_campaign(offers=[judo, an_offer(capacity=3)], keep_siblings_together=True)
    elder = an_application(campaign, *campaign["offers"], arrival=1, family="family-durand")
    # The younger one's application names the elder's; the reference in one direction is enough.
    younger = an_application(campaign, *campaign["offers"], arrival=2, family="family-durand",
                             keep_with=(elder["application_id"],))
    stranger_reference = an_application(campaign, arrival=3, keep_with=(elder["application_id"],))
    draw(allocation, campaign, elder, younger, stranger_reference)

    elder_now, younger_now = explanation(parent, elder), explanation(parent, younger)
    assert elder_now["sibling_group"] == younger_now["sibling_group"] == [str(elder["application_id"]),
                                                                          str(younger["application_id"])]
    assert elder_now["outcome"] == younger_now["outcome"] == "allocated"
    assert elder_now["offer_id"] == younger_now["offer_id"]
    assert explanation(parent, stranger_reference)["sibling_group"] == []
