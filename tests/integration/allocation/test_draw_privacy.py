"""The public draw bundle of a priority campaign: verifiable by anyone, without anyone's facts
(issue 17), and checked against the commitment published at the opening."""
import json
from datetime import date, timedelta

from services.allocation import verify
from services.allocation.handlers.jobs import DrawScheduler
from tests.support.allocation import a_campaign, an_application, an_offer
from tests.support.draw_bundles import redrawn

PRIORITY = [{"name": "disability_allowance"}, {"name": "quotient_tranche_at_most", "max_tranche": 3},
            {"name": "resident_of_offer_arrondissement"}]


def drawn_priority_campaign(allocation):
    campaign = allocation.publish(a_campaign("priority_lottery", offers=[an_offer(capacity=2), an_offer(
        capacity=1, title="Voile", arrondissement=15, min_age=9)], criteria=PRIORITY))
    allocation.open(campaign)
    received = []
    for n in range(6):
        application = an_application(campaign, *campaign["offers"], arrival=n, quotient_tranche=[2, 7, None][n % 3],
                                     birth_date=date(2016 - n % 3, 3, 1 + n), first_name=f"Zoé{n}")
        application["child"]["disability_allowance"] = n == 4
        application["household"]["residence_arrondissement"] = [11, 15, 19][n % 3]
        received.append(application)
    allocation.receive(*received)
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    return campaign, received


def test_the_public_bundle_holds_no_fact_and_verifies_against_the_opening(allocation, app, tmp_path):
    campaign, received = drawn_priority_campaign(allocation)
    (committed,) = allocation.announced("lottery.seed_committed")
    public = app.test_client()
    draw = public.get(f"/draws/{campaign['campaign_id']}").json
    assert draw["commitment"] == committed["commitment"]
    response = public.get(draw["bundle_url"])
    bundle = response.json
    assert bundle["format"] == "guichet-draw/3"

    text = response.get_data(as_text=True)
    for application in received:
        for value in (application["application_id"], application["family_account"], application["child"]["child_id"],
                      application["child"]["first_name"], application["child"]["birth_date"]):
            assert str(value) not in text
    facts = {"age_at_reference_date", "birth_date", "residence_arrondissement", "quotient_tranche",
             "disability_allowance", "single_parent", "unsuccessful_earlier_years", "facts"}
    assert not facts & {key for record in bundle["applications"] for key in record}
    assert 19 not in [value for record in bundle["applications"] for value in record.values()]  # no offer there
    assert sum("disability_allowance" in record["criteria_met"] for record in bundle["applications"]) == 1

    (tmp_path / "draw.json").write_text(text)
    assert verify.main([str(tmp_path / "draw.json"), "--commitment", committed["commitment"]]) == 0

    forged = redrawn(bundle, bytes(range(32)))
    assert forged["results"] != bundle["results"]
    (tmp_path / "redrawn.json").write_text(json.dumps(forged))
    assert verify.main([str(tmp_path / "redrawn.json"), "--trust-bundle-commitment"]) == 0  # consistent alone
    assert verify.main([str(tmp_path / "redrawn.json"), "--commitment", committed["commitment"]]) == 1
    assert verify.main([str(tmp_path / "redrawn.json")]) == 2


def test_a_family_checks_its_own_line_and_changed_facts_are_detected(allocation, app, parent, tmp_path):
    campaign, received = drawn_priority_campaign(allocation)
    public = app.test_client()
    draw = public.get(f"/draws/{campaign['campaign_id']}").json
    (tmp_path / "draw.json").write_bytes(public.get(draw["bundle_url"]).data)
    family = received[4]  # the child with the disability allowance
    response = parent(family["family_account"], f"/explanations/{family['application_id']}/draw-line")
    assert response.status_code == 200, response.json
    line = response.json
    assert line["facts"]["disability_allowance"] is True and line["facts"]["quotient_tranche"] == 7
    assert "--line " + line["line"] in line["how_to_check"]
    (tmp_path / "facts.json").write_text(json.dumps(line["facts"]))
    check = [str(tmp_path / "draw.json"), "--commitment", draw["commitment"], "--line", line["line"],
             "--salt", line["salt"], "--facts", str(tmp_path / "facts.json")]
    assert verify.main(check) == 0

    (tmp_path / "facts.json").write_text(json.dumps({**line["facts"], "disability_allowance": False}))
    assert verify.main(check) == 1

    stranger = parent(received[0]["family_account"], f"/explanations/{family['application_id']}/draw-line")
    assert stranger.status_code == 404 and stranger.json["code"] == "application-not-found"


def test_auditors_get_every_line_with_its_salt_and_facts(allocation, app, manager):
    from services.allocation.domain import check_line

    campaign, received = drawn_priority_campaign(allocation)
    bundle = app.test_client().get(f"/draws/{campaign['campaign_id']}/bundle.json").json
    record = manager("GET", f"/campaigns/{campaign['campaign_id']}/allocation/draw-record")
    assert record.status_code == 200, record.json
    lines = record.json["lines"]
    assert sorted(line["application_id"] for line in lines) == sorted(str(a["application_id"]) for a in received)
    for line in lines:
        assert check_line(bundle, line["line"], bytes.fromhex(line["salt"]), line["facts"]) == []
    import hashlib
    assert hashlib.sha256(bytes.fromhex(record.json["lines_key"])).hexdigest() == bundle["lines_key_digest"]
    assert app.test_client().get(f"/campaigns/{campaign['campaign_id']}/allocation/draw-record").status_code == 401
