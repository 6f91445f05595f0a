"""Parents read why: their tier, lottery number, and whom they had to beat; nobody reads another family's."""
from datetime import timedelta
from uuid import uuid4

from services.allocation.handlers.jobs import DrawScheduler
from tests.support.allocation import a_campaign, an_application, an_offer


def test_a_family_reads_its_own_explanation_and_nobody_elses(allocation, parent):
    judo, voile = an_offer(capacity=1, title="Judo"), an_offer(capacity=1, title="Voile")
    campaign = allocation.publish(a_campaign("priority_lottery", offers=[judo, voile],
                                             criteria=[{"name": "single_parent"}]))
    allocation.open(campaign)
    favoured = an_application(campaign, judo, voile, arrival=1, single_parent=True)
    others = [an_application(campaign, judo, voile, arrival=n) for n in (2, 3)]
    allocation.receive(favoured, *others)
    path = f"/explanations/{others[0]['application_id']}"
    undecided = parent(others[0]["family_account"], path)
    assert undecided.status_code == 409 and undecided.json["code"] == "not-decided-yet"

    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    mine = parent(favoured["family_account"], f"/explanations/{favoured['application_id']}").json
    assert mine["outcome"] == "allocated" and mine["offer_id"] == str(judo["offer_id"])
    assert mine["choices"][0]["tier"] == 1 and mine["choices"][0]["criteria_met"] == ["single_parent"]
    assert mine["choices"][0]["standing"] == "admitted" and mine["choices"][1]["standing"] == "not_needed"

    explained = [parent(o["family_account"], f"/explanations/{o['application_id']}").json for o in others]
    beaten = next(e for e in explained if e["outcome"] == "waitlisted")
    judo_choice = beaten["choices"][0]
    assert judo_choice["standing"] == "not_admitted" and judo_choice["tier"] == 2
    assert judo_choice["cutoffs"] == [{"seats": "open", "tier": 1, "lottery_number": mine["lottery_number"],
                                       "arrival_rank": None}]
    # The child placed at voile, its second choice, may be ahead of it on judo's waitlist.
    assert judo_choice["waitlist_position"] == beaten["waitlist"][0]["position"] in (1, 2)

    stranger = parent(favoured["family_account"], path)
    unknown = parent(favoured["family_account"], f"/explanations/{uuid4()}")
    assert stranger.status_code == unknown.status_code == 404
    assert stranger.json["code"] == unknown.json["code"] == "application-not-found"
