"""First-come campaigns are decided as applications arrive, by the rule intake used for its holds;
applications reaching a lottery campaign after its draw go to the end of the waitlists."""
from datetime import date, timedelta

from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.store.tables import decisions
from tests.support.allocation import a_campaign, an_application, an_offer


def outcomes(allocation) -> list[tuple[str, str, str | None, list]]:
    return [(d["application_id"], d["outcome"], d["offer_id"], [(w["offer_id"], w["position"]) for w in d["waitlist"]])
            for d in allocation.announced("allocation.decided")]


def test_first_come_decides_in_arrival_order_as_intake_held_places(allocation, parent):
    judo, voile = an_offer(capacity=1, waitlist_limit=1, title="Judo"), an_offer(capacity=1, waitlist_limit=5)
    campaign = allocation.publish(a_campaign("fcfs", offers=[judo, voile]))
    allocation.open(campaign)
    first, second, third, fourth = (an_application(campaign, judo, voile, arrival=n) for n in (10, 11, 12, 13))
    too_old = an_application(campaign, judo, arrival=14, birth_date=date(2010, 1, 1))
    late_for_judo = an_application(campaign, judo, arrival=15)
    allocation.receive(first, second)
    allocation.receive(third, fourth, too_old, late_for_judo)

    judo_id, voile_id = str(judo["offer_id"]), str(voile["offer_id"])
    assert outcomes(allocation) == [
        (str(first["application_id"]), "allocated", judo_id, []),
        (str(second["application_id"]), "allocated", voile_id, []),
        (str(third["application_id"]), "waitlisted", None, [(judo_id, 1)]),  # the first waitlist with room
        (str(fourth["application_id"]), "waitlisted", None, [(voile_id, 1)]),
        (str(too_old["application_id"]), "rejected", None, []),
        (str(late_for_judo["application_id"]), "rejected", None, []),
    ]
    decided = {d["application_id"]: d for d in allocation.announced("allocation.decided")}
    assert decided[str(too_old["application_id"])]["reasons"] == ["too_old"]
    assert decided[str(late_for_judo["application_id"])]["reasons"] == ["waitlist_full"]

    explained = parent(second["family_account"], f"/explanations/{second['application_id']}").json
    assert (explained["tie_break_kind"], explained["arrival_rank"], explained["decided_on_arrival"]) == (
        "arrival", 2, True)
    judo_choice, voile_choice = explained["choices"]
    assert judo_choice["standing"] == "not_admitted"
    assert judo_choice["cutoffs"] == [{"seats": "open", "tier": 1, "lottery_number": None, "arrival_rank": 1}]
    assert voile_choice["standing"] == "admitted" and explained["place"]["state"] == "offered"

    allocation.answer("offer.declined", first, judo["offer_id"])
    (promoted,) = allocation.announced("waitlist.promoted")
    assert promoted["application_id"] == str(third["application_id"]) and promoted["offer_id"] == judo_id


def test_applications_ahead_of_their_campaign_are_decided_when_it_arrives(allocation):
    campaign = a_campaign("fcfs", offers=[an_offer(capacity=1)])
    early = [an_application(campaign, arrival=n) for n in range(2)]
    allocation.receive(*early)
    assert allocation.count(decisions) == 0
    allocation.publish(campaign)
    assert [(d["application_id"], d["outcome"]) for d in allocation.announced("allocation.decided")] == [
        (str(early[0]["application_id"]), "allocated"), (str(early[1]["application_id"]), "waitlisted")]


def test_an_application_reaching_a_drawn_lottery_goes_to_the_end_of_the_waitlists(allocation, parent):
    campaign = allocation.publish(a_campaign(offers=[an_offer(capacity=1)]))
    allocation.open(campaign)
    allocation.receive(*[an_application(campaign, arrival=n) for n in range(3)])
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    straggler = an_application(campaign, arrival=3)
    allocation.receive(straggler)

    decided = allocation.announced("allocation.decided")[-1]
    assert decided["application_id"] == str(straggler["application_id"])
    assert (decided["outcome"], decided["waitlist"][0]["position"]) == ("waitlisted", 3)
    explained = parent(straggler["family_account"], f"/explanations/{straggler['application_id']}").json
    assert explained["decided_on_arrival"] and len(explained["lottery_number"]) == 64


def test_a_first_come_decision_confirms_intakes_hold_whatever_order_the_ledger_announces(allocation):
    """Intake held the last seat for `first` and put `second` on the waitlist (arrival numbers 1 and 2); the
    ledger's writers announce `second` first (one campaign over several partitions, issue 19). `second` must not
    take the seat intake held for `first`."""
    judo = an_offer(capacity=1, waitlist_limit=5)
    campaign = allocation.publish(a_campaign("fcfs", offers=[judo]))
    allocation.open(campaign)
    first, second = (an_application(campaign, judo, arrival=n) for n in (1, 2))
    first["hold"] = {"kind": "held", "offer_id": str(judo["offer_id"]), "position": None}
    second["hold"] = {"kind": "waitlisted", "offer_id": str(judo["offer_id"]), "position": 1}
    allocation.receive(second)
    allocation.receive(first)

    judo_id = str(judo["offer_id"])
    assert sorted(outcomes(allocation), key=lambda o: o[0] != str(first["application_id"])) == [
        (str(first["application_id"]), "allocated", judo_id, []),
        (str(second["application_id"]), "waitlisted", None, [(judo_id, 1)]),
    ]


def test_a_hold_is_never_honoured_beyond_the_offers_capacity(allocation):
    judo = an_offer(capacity=1, waitlist_limit=5)
    campaign = allocation.publish(a_campaign("fcfs", offers=[judo]))
    allocation.open(campaign)
    one, two = (an_application(campaign, judo, arrival=n) for n in (1, 2))
    for application in (one, two):  # two holds for one seat: never given by intake, not honoured twice here
        application["hold"] = {"kind": "held", "offer_id": str(judo["offer_id"]), "position": None}
    allocation.receive(one, two)
    assert [o[1] for o in outcomes(allocation)] == ["allocated", "waitlisted"]
