"""Draw bundles and guichet-verify: anyone can recompute a published draw."""
import copy
import json

import pytest
from hypothesis import given

from services.allocation.domain import (
    CampaignPolicy,
    PriorityCriterion,
    ReservedShare,
    allocate,
    commitment,
    draw_bundle,
    verify_draw,
)
from services.allocation.verify import main
from tests.support.allocation_builders import ALL_CRITERIA, SEED, application, instances, offer, property_settings

EVERY_RULE = CampaignPolicy(
    mode="priority_lottery", criteria=ALL_CRITERIA, lottery_weight_per_unsuccessful_year=1,
    keep_siblings_together=True, max_choices=3, residence_required_arrondissements=frozenset(range(1, 21)),
    reserved_shares=(ReservedShare(PriorityCriterion("quotient_tranche_at_most", 3), "0.2"),
                     ReservedShare(PriorityCriterion("disability_allowance"), "0.1")))
OFFERS = [offer("judo", 5, arrondissement=11), offer("voile", 3, arrondissement=15, waitlist_limit=4),
          offer("escalade", 2, arrondissement=11, min_age=9)]
APPLICATIONS = [
    application(f"0000000{n}-0000-4000-8000-00000000000{n}", *choices, arrival=n, family=family,
                group="g" if family == "martin" else None, age=7 + n % 4, residence_arrondissement=11 + n % 5,
                quotient_tranche=[None, 2, 7][n % 3], single_parent=n % 4 == 0, disability_allowance=n == 5,
                unsuccessful_earlier_years=n % 3, not_placed_previous_campaign=n % 2 == 1)
    for n, (choices, family) in enumerate([
        (("judo", "voile"), "martin"), (("voile",), "martin"), (("judo", "escalade"), "dupont"),
        (("escalade", "judo", "voile"), "dupont"), (("judo",), "petit"), (("voile", "judo"), "durand"),
        (("judo", "voile"), "bernard"), (("voile", "escalade"), "thomas"), (("judo",), "robert"),
        (("escalade", "voile"), "richard")])]


def published(policy=EVERY_RULE, offers=OFFERS, applications=APPLICATIONS, seed=SEED):
    bundle = draw_bundle(policy, offers, applications, allocate(policy, offers, applications, seed), seed)
    return json.loads(json.dumps(bundle))  # exactly what a reader downloads


def test_a_published_bundle_verifies():
    assert verify_draw(published()) == []


@property_settings
@given(instances())
def test_every_allocation_verifies_from_its_bundle(instance):
    assert verify_draw(published(*instance)) == []


def test_a_tampered_result_is_reported_with_the_application_and_the_field():
    bundle = published()
    victim = next(i for i, r in bundle["results"].items() if r["status"] == "waitlisted")
    bundle["results"][victim]["status"] = "allocated"
    assert verify_draw(bundle) == [f"{victim}: status published 'allocated', recomputed 'waitlisted'"]


def test_a_seed_other_than_the_committed_one_fails():
    bundle = published()
    bundle["seed"] = bytes(32).hex()
    problems = verify_draw(bundle)
    assert problems[0].startswith(f"the seed {bytes(32).hex()} does not match the published commitment")
    assert len(problems) > 1  # and the numbers it gives do not match the published ones


def test_a_seed_given_separately_replaces_the_bundles():
    bundle = published()
    bundle["seed"] = None
    assert verify_draw(bundle, SEED) == []
    with pytest.raises(ValueError, match="no seed"):
        verify_draw(bundle)


def test_a_first_come_first_served_draw_has_no_seed_and_verifies():
    fcfs = CampaignPolicy("fcfs", max_choices=3)
    bundle = published(policy=fcfs, seed=None)
    assert bundle["seed"] is bundle["seed_commitment"] is None
    assert verify_draw(bundle) == []


def test_the_bundle_publishes_aliases_and_only_the_facts_the_policy_reads():
    bundle = published(policy=CampaignPolicy("priority_lottery", (PriorityCriterion("single_parent"),)))
    first = bundle["applications"][0]
    assert first["child"] == "child-1" and "family" not in first and "sibling_group" not in first
    assert first["facts"] == {"single_parent": True}
    everything = published()["applications"][0]
    assert (everything["family"], everything["sibling_group"]) == ("family-1", "group-1")
    assert bundle["seed_commitment"] == commitment(SEED)


def test_the_command_says_ok_and_exits_0_for_a_faithful_bundle(tmp_path, capsys):
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(published()))
    assert main([str(path)]) == 0
    assert capsys.readouterr().out == "OK: the seed matches its commitment and all 10 results match\n"


def test_the_command_lists_differences_and_exits_1(tmp_path, capsys):
    bundle = published()
    tampered = copy.deepcopy(bundle)
    first = next(iter(tampered["results"]))
    tampered["results"][first]["lottery_number"] = "0" * 64
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(tampered))
    assert main([str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "MISMATCH: 1 difference(s)",
        f"  {first}: lottery_number published '{'0' * 64}', recomputed '{bundle['results'][first]['lottery_number']}'"]
    path.write_text(json.dumps(bundle))
    assert main([str(path), "--seed", bytes(32).hex()]) == 1


def test_the_command_exits_2_when_it_cannot_read_the_bundle(tmp_path, capsys):
    assert main([str(tmp_path / "missing.json")]) == 2
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    assert main([str(tmp_path / "other.json")]) == 2
    assert "cannot verify" in capsys.readouterr().err
