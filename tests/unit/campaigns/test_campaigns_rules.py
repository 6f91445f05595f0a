from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from services.campaigns.domain import (
    AllocationMode,
    AllocationPolicy,
    RuleViolation,
    campaign_violations,
    validate_campaign,
)
from tests.support.campaign_builders import (
    GRID,
    OPENS_AT,
    a_campaign,
    a_published_campaign,
    an_offer,
)


def violations_of(campaign) -> list[tuple[str, str]]:
    return [(v.code, v.field) for v in campaign_violations(campaign)]


def test_builder_campaign_is_valid():
    assert validate_campaign(a_campaign()) == a_campaign()


def test_validate_raises_every_violation_at_once():
    with pytest.raises(RuleViolation) as raised:
        validate_campaign(a_campaign(title=" ", max_choices=0))
    assert raised.value.codes == ["campaign.title_required", "campaign.max_choices_out_of_range"]
    assert "title" in str(raised.value)


@pytest.mark.parametrize("changes, expected", [
    ({"title": ""}, ("campaign.title_required", "title")),
    ({"title": "x" * 201}, ("campaign.title_too_long", "title")),
    ({"kind": "Sport Vacances"}, ("campaign.kind_invalid", "kind")),
    ({"kind": "sport__vacances"}, ("campaign.kind_invalid", "kind")),
    ({"kind": "s" * 41}, ("campaign.kind_invalid", "kind")),
    ({"closes_at": OPENS_AT}, ("window.closes_before_opens", "closes_at")),
    ({"closes_at": OPENS_AT - timedelta(hours=1)}, ("window.closes_before_opens", "closes_at")),
    ({"opens_at": datetime(2026, 2, 2)}, ("datetime.timezone_required", "opens_at")),
    ({"max_choices": 0}, ("campaign.max_choices_out_of_range", "max_choices")),
    ({"max_choices": 11}, ("campaign.max_choices_out_of_range", "max_choices")),
    ({"max_choices": True}, ("campaign.max_choices_out_of_range", "max_choices")),
])
def test_campaign_rules(changes, expected):
    assert violations_of(a_campaign(**changes)) == [expected]


def test_new_kinds_are_open_slugs_without_age_limits():
    campaign = a_campaign(kind="sejour_ete_montagne", offers=(an_offer(min_age=4, max_age=19),))
    assert violations_of(campaign) == []


def test_max_choices_bounds_are_inclusive():
    assert violations_of(a_campaign(max_choices=1)) == violations_of(a_campaign(max_choices=10)) == []


def test_a_draft_may_have_no_offer_but_a_published_campaign_needs_one():
    assert violations_of(a_campaign(offers=())) == []
    assert violations_of(a_published_campaign(offers=())) == [("campaign.offer_required", "offers")]


def test_offer_ids_are_unique_within_the_campaign():
    campaign = a_campaign(offers=(an_offer(), an_offer(title="Escalade")))
    assert violations_of(campaign) == [("offer.duplicate_id", "offers.1.id")]


@pytest.mark.parametrize("changes, expected", [
    ({"title": "  "}, ("offer.title_required", "title")),
    ({"site": ""}, ("offer.site_required", "site")),
    ({"arrondissement": 0}, ("offer.arrondissement_out_of_range", "arrondissement")),
    ({"arrondissement": 21}, ("offer.arrondissement_out_of_range", "arrondissement")),
    ({"ends_on": date(2026, 3, 1)}, ("offer.ends_before_starts", "ends_on")),
    ({"ends_on": date(2027, 3, 6)}, ("offer.period_too_long", "ends_on")),
    ({"starts_on": date(2026, 2, 27)}, ("offer.starts_before_window_closes", "starts_on")),
    ({"min_age": -1}, ("offer.age_range_invalid", "min_age")),
    ({"max_age": 26}, ("offer.age_range_invalid", "max_age")),
    ({"min_age": 10, "max_age": 9}, ("offer.age_range_invalid", "max_age")),
    ({"min_age": 6}, ("offer.age_outside_kind_range", "min_age")),
    ({"max_age": 18}, ("offer.age_outside_kind_range", "max_age")),
    ({"capacity": 0}, ("offer.capacity_too_small", "capacity")),
    ({"capacity": 12.0}, ("offer.capacity_too_small", "capacity")),
    ({"waitlist_limit": -1}, ("offer.waitlist_limit_negative", "waitlist_limit")),
    ({"tariffs_cents": GRID[:9]}, ("tariff.tranche_count", "tariffs_cents")),
    ({"tariffs_cents": (-1,) + GRID[1:]}, ("tariff.negative_price", "tariffs_cents.0")),
    ({"tariffs_cents": GRID[:9] + (10.5,)}, ("tariff.not_whole_cents", "tariffs_cents.9")),
    ({"tariffs_cents": GRID[:4] + (350,) + GRID[5:]}, ("tariff.decreasing", "tariffs_cents.4")),
])
def test_offer_rules_name_the_field_inside_the_campaign(changes, expected):
    code, field = expected
    campaign = a_campaign(offers=(an_offer(id="a"), an_offer(id="b", **changes)))
    assert violations_of(campaign) == [(code, f"offers.1.{field}")]


def test_first_come_first_served_offer_may_start_while_applications_are_open():
    campaign = a_campaign(policy=AllocationPolicy(AllocationMode.FIRST_COME), offers=(an_offer(starts_on=date(2026, 2, 11)),))
    assert violations_of(campaign) == []


def test_waitlist_limit_may_be_absent():
    assert violations_of(a_campaign(offers=(an_offer(waitlist_limit=None),))) == []


def test_offer_may_start_the_day_after_the_close_in_paris():
    # The window closes 27 February 23:59 Paris, which is still 27 February 22:59 UTC.
    assert violations_of(a_campaign(offers=(an_offer(starts_on=date(2026, 2, 28)),))) == []


def test_offer_start_is_checked_against_an_early_close():
    closed_early = replace(a_campaign(offers=(an_offer(starts_on=date(2026, 2, 20), ends_on=date(2026, 2, 24)),)),
                           closes_at=OPENS_AT + timedelta(days=30), closed_early_at=OPENS_AT + timedelta(days=10))
    assert violations_of(closed_early) == []


@pytest.mark.parametrize("kind, ages", [
    ("sport_vacances", (7, 17)),
    ("centre_loisirs_mercredi", (3, 11)),
    ("conservatoire_examen", (0, 25)),
])
def test_known_kinds_accept_their_full_age_range(kind, ages):
    assert violations_of(a_campaign(kind=kind, offers=(an_offer(min_age=ages[0], max_age=ages[1]),))) == []


def test_centres_de_loisirs_refuse_teenagers():
    campaign = a_campaign(kind="centre_loisirs_mercredi", offers=(an_offer(min_age=6, max_age=12),))
    assert violations_of(campaign) == [("offer.age_outside_kind_range", "offers.0.max_age")]


def test_policy_violations_are_nested_under_policy():
    campaign = a_campaign(policy=replace(a_campaign().policy, acceptance_delay_hours=0))
    assert violations_of(campaign) == [("policy.acceptance_delay_out_of_range", "policy.acceptance_delay_hours")]
