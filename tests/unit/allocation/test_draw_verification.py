"""Draw bundles and guichet-verify: anyone can recompute a published draw, from a file that holds
no raw fact of anyone (guichet-draw/3), against the commitment published at the opening."""
import copy
import json
from dataclasses import replace

import pytest
from hypothesis import given

from services.allocation.domain import (
    CampaignPolicy,
    PriorityCriterion,
    ReservedShare,
    allocate,
    check_line,
    commitment,
    draw_bundle,
    inclusion_proof,
    line_record,
    proves_inclusion,
    sealed_draw,
    secret_commitment,
    secret_parts,
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


SECRET = SEED + bytes(range(100, 132))  # seed ‖ lines key
COMMITMENT = secret_commitment(SECRET)


def published(policy=EVERY_RULE, offers=OFFERS, applications=APPLICATIONS, secret=SECRET):
    bundle = sealed_draw(policy, offers, applications, secret).bundle
    return json.loads(json.dumps(bundle))  # exactly what a reader downloads


def legacy(policy=EVERY_RULE, offers=OFFERS, applications=APPLICATIONS, seed=SEED):
    """A guichet-draw/2 bundle, as published before /3."""
    bundle = draw_bundle(policy, offers, applications, allocate(policy, offers, applications, seed), seed)
    return json.loads(json.dumps(bundle))


def test_a_published_bundle_verifies_against_the_commitment_of_the_opening():
    bundle = published()
    assert bundle["format"] == "guichet-draw/3" and bundle["seed_commitment"] == COMMITMENT
    assert verify_draw(bundle, published_commitment=COMMITMENT) == []


@property_settings
@given(instances())
def test_every_allocation_verifies_from_its_bundle(instance):
    policy, offers, applications, seed = instance
    secret = seed + bytes(32)
    assert verify_draw(published(policy, offers, applications, secret)) == []
    # With a residence requirement too: the verifier's stand-in homes must be accepted exactly as the real ones.
    required = replace(policy, residence_required_arrondissements=frozenset({1, 2}))
    assert verify_draw(published(required, offers, applications, secret)) == []


@property_settings
@given(instances())
def test_every_line_of_a_random_draw_is_what_its_facts_give(instance):
    """Lines are made in bulk for a draw (bundle._SealedLines); check_line recomputes one line alone from its
    facts (bundle._assessment): both must agree, also with the facts counted as validated and a residence rule."""
    policy, offers, applications, seed = instance
    secret = seed + bytes(range(32))
    for variant in (policy, replace(policy, requires_validated_facts=True),
                    replace(policy, residence_required_arrondissements=frozenset({1, 2}))):
        bundle = published(variant, offers, applications, secret)
        for one in applications:
            own = line_record(one, secret)
            assert check_line(bundle, own["line"], bytes.fromhex(own["salt"]), own["facts"]) == []


def test_the_draw_gives_each_application_the_result_its_line_got():
    drawn = sealed_draw(EVERY_RULE, OFFERS, APPLICATIONS, SECRET)
    for one in APPLICATIONS:
        outcome = drawn.result.outcomes[one.application_id]
        line = drawn.lines[one.application_id]
        assert outcome.application_id == one.application_id
        assert outcome.status == drawn.bundle["results"][line]["status"]
    assert set(drawn.bundle["results"]) == set(drawn.lines.values())
    together = [o.explanation.sibling_group for o in drawn.result.outcomes.values() if o.explanation.sibling_group]
    assert together and all(member in drawn.lines for group in together for member in group)


def test_the_public_bundle_holds_no_fact_age_arrondissement_or_application_id():
    bundle = published()
    text = json.dumps(bundle)
    for one in APPLICATIONS:
        assert one.application_id not in text and one.family_account not in text
    for record in bundle["applications"]:
        assert not {"facts", "age_at_reference_date", "application_id"} & set(record)
        assert set(record) <= {"line", "child", "family", "sibling_group", "choices", "arrival_sequence",
                               "eligibility", "criteria_met", "resident_at", "tickets", "facts_commitment"}
    facts = {"quotient_tranche", "disability_allowance", "residence_arrondissement", "age_at_reference_date",
             "birth_date", "unsuccessful_earlier_years", "single_parent", "not_placed_previous_campaign"}
    assert not facts & {key for record in bundle["applications"] for key in record}
    arrondissements = {application.facts.residence_arrondissement for application in APPLICATIONS}
    assert not any(value in arrondissements for record in bundle["applications"] for value in record.values()
                   if isinstance(value, int) and not isinstance(value, bool) and value != record["arrival_sequence"]
                   and value != record.get("tickets"))
    # What the allocation reads is there: the criteria outcomes, as the policy names them.
    assert any("disability_allowance" in record["criteria_met"] for record in bundle["applications"])


def test_a_tampered_result_is_reported_with_the_line_and_the_field():
    bundle = published()
    victim = next(i for i, r in bundle["results"].items() if r["status"] == "waitlisted")
    bundle["results"][victim]["status"] = "allocated"
    assert verify_draw(bundle) == [f"{victim}: status published 'allocated', recomputed 'waitlisted'"]


def test_a_tampered_assessment_changes_the_recomputation():
    bundle = published()
    luckless = next(r for r in bundle["applications"] if bundle["results"][r["line"]]["status"] != "allocated"
                    and "disability_allowance" not in r["criteria_met"])
    luckless["criteria_met"] = ["disability_allowance", *luckless["criteria_met"]]
    assert verify_draw(bundle) != []


def test_a_seed_other_than_the_committed_one_fails():
    bundle = published()
    bundle["seed"] = bytes(32).hex()
    problems = verify_draw(bundle)
    assert problems[0].startswith(f"the seed {bytes(32).hex()} does not match the bundle's commitment")
    assert len(problems) > 1  # and the numbers it gives do not match the published ones


def test_a_bundle_redrawn_with_a_new_seed_and_its_own_commitment_fails_against_the_opening():
    redrawn = published(secret=bytes(range(32, 64)) + SECRET[32:])
    assert verify_draw(redrawn) == []  # consistent with itself
    problems = verify_draw(redrawn, published_commitment=COMMITMENT)
    assert len(problems) == 1 and "does not match the commitment published at the opening" in problems[0]


def test_another_lines_key_is_another_commitment():
    other_lines = published(secret=SEED + bytes(32))
    assert other_lines["results"] != published()["results"]
    assert verify_draw(other_lines, published_commitment=COMMITMENT) != []


def test_each_number_depends_on_every_application_in_the_draw():
    """Whoever knows the seed during the window still cannot know a number before the close: one
    more application changes the root, the draw key and so every other line's number."""
    first = published(applications=APPLICATIONS[:-1])
    later = published(applications=APPLICATIONS)
    assert first["applications_root"] != later["applications_root"]
    common = set(first["results"]) & set(later["results"])
    assert len(common) == len(APPLICATIONS) - 1
    assert all(first["results"][line]["lottery_number"] != later["results"][line]["lottery_number"] for line in common)


def test_a_family_proves_its_line_is_in_the_root():
    bundle = published()
    lines = [record["line"] for record in bundle["applications"]]
    for line in lines:
        assert proves_inclusion(line, inclusion_proof(lines, line), bundle["applications_root"])
    assert not proves_inclusion(lines[0], inclusion_proof(lines, lines[1]), bundle["applications_root"])


def test_a_family_checks_its_line_with_its_salt_and_changed_facts_are_detected():
    bundle = published()
    family = APPLICATIONS[5]  # the one with the disability allowance
    own = line_record(family, SECRET)
    assert check_line(bundle, own["line"], bytes.fromhex(own["salt"]), own["facts"]) == []

    claimed = {**own["facts"], "disability_allowance": False}
    problems = check_line(bundle, own["line"], bytes.fromhex(own["salt"]), claimed)
    assert problems[0] == f"{own['line']}: the facts given do not match the published facts commitment"
    assert any("criteria_met" in problem for problem in problems[1:])
    other = line_record(APPLICATIONS[0], SECRET)
    assert check_line(bundle, own["line"], bytes.fromhex(other["salt"]), own["facts"])[0].endswith("commitment")


def test_an_auditor_with_every_salt_checks_that_facts_gave_every_line():
    bundle = published()
    for one in APPLICATIONS:
        own = line_record(one, SECRET)
        assert check_line(bundle, own["line"], bytes.fromhex(own["salt"]), own["facts"]) == []


def test_an_old_32_byte_seed_still_draws_and_commits_as_before():
    bundle = published(secret=SEED)
    assert bundle["lines_key_digest"] is None and bundle["seed_commitment"] == commitment(SEED)
    assert secret_parts(SEED)[0] == SEED
    assert verify_draw(bundle, published_commitment=commitment(SEED)) == []


def test_old_bundles_still_verify():
    bundle = legacy()
    assert bundle["format"] == "guichet-draw/2" and "facts" in bundle["applications"][0]
    assert verify_draw(bundle, published_commitment=commitment(SEED)) == []
    bundle["seed"] = bytes(32).hex()
    assert verify_draw(bundle)[0].startswith(f"the seed {bytes(32).hex()} does not match the bundle's commitment")


def test_a_seed_given_separately_replaces_the_bundles():
    bundle = published()
    bundle["seed"] = None
    assert verify_draw(bundle, SEED) == []
    with pytest.raises(ValueError, match="no seed"):
        verify_draw(bundle)


def test_a_first_come_first_served_draw_has_no_seed_and_verifies():
    fcfs = CampaignPolicy("fcfs", max_choices=3)
    bundle = published(policy=fcfs, secret=None)
    assert bundle["seed"] is bundle["seed_commitment"] is None
    assert verify_draw(bundle) == []


def test_the_bundle_publishes_aliases_and_only_what_the_policy_reads():
    bundle = published(policy=CampaignPolicy("priority_lottery", (PriorityCriterion("single_parent"),)))
    first = bundle["applications"][0]
    assert first["child"] == "child-1" and "family" not in first and "sibling_group" not in first
    assert "resident_at" not in first and "tickets" not in first
    assert set(first["criteria_met"]) <= {"single_parent"}
    everything = published()["applications"]
    assert {"family-1", "group-1"} <= {value for record in everything for value in record.values()
                                       if isinstance(value, str)}


def test_the_command_says_ok_and_exits_0_for_a_faithful_bundle(tmp_path, capsys):
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(published()))
    assert main([str(path), "--commitment", COMMITMENT]) == 0
    assert capsys.readouterr().out == ("OK: the seed matches the commitment published at the opening and "
                                       "all 10 results match\n")


def test_the_command_refuses_a_lottery_without_an_outside_commitment(tmp_path, capsys):
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(published(secret=bytes(range(32, 64)) + SECRET[32:])))
    assert main([str(path)]) == 2
    assert "commitment published at the opening" in capsys.readouterr().err
    assert main([str(path), "--commitment", COMMITMENT]) == 1
    assert "not the draw that was committed to" in capsys.readouterr().out
    assert main([str(path), "--trust-bundle-commitment"]) == 0
    assert "IN THE BUNDLE" in capsys.readouterr().out


def test_the_command_checks_a_familys_line(tmp_path, capsys):
    bundle = published()
    (tmp_path / "draw.json").write_text(json.dumps(bundle))
    own = line_record(APPLICATIONS[5], SECRET)
    (tmp_path / "facts.json").write_text(json.dumps(own["facts"]))
    arguments = [str(tmp_path / "draw.json"), "--commitment", COMMITMENT, "--line", own["line"], "--salt", own["salt"],
                 "--facts", str(tmp_path / "facts.json")]
    assert main(arguments) == 0
    assert capsys.readouterr().out.strip().endswith(f"line {own['line']} matches its facts")
    (tmp_path / "facts.json").write_text(json.dumps({**own["facts"], "age_at_reference_date": 3}))
    assert main(arguments) == 1


def test_the_command_lists_differences_and_exits_1(tmp_path, capsys):
    bundle = published()
    tampered = copy.deepcopy(bundle)
    first = next(iter(tampered["results"]))
    tampered["results"][first]["lottery_number"] = "0" * 64
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(tampered))
    assert main([str(path), "--commitment", COMMITMENT]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "MISMATCH: 1 difference(s)",
        f"  {first}: lottery_number published '{'0' * 64}', recomputed '{bundle['results'][first]['lottery_number']}'"]
    path.write_text(json.dumps(bundle))
    assert main([str(path), "--seed", bytes(32).hex(), "--commitment", COMMITMENT]) == 1


def test_the_command_exits_2_when_it_cannot_read_the_bundle(tmp_path, capsys):
    assert main([str(tmp_path / "missing.json")]) == 2
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    assert main([str(tmp_path / "other.json")]) == 2
    assert "cannot verify" in capsys.readouterr().err
