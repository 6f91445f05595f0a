from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from services.campaigns.demo_data import (
    CENTRES_LOISIRS_MERCREDI_PRINTEMPS_2026,
    CONSERVATOIRE_ADMISSIONS_2026,
    DEMO_CAMPAIGNS,
    SPORT_VACANCES_HIVER_2026,
    WEDNESDAYS_IN_PERIOD,
)
from services.campaigns.domain import (
    AllocationMode,
    CampaignStatus,
    CriterionName,
    acceptance_deadline,
    campaign_violations,
    price_for,
    publish_campaign,
    status_at,
    to_paris_iso,
)
from services.campaigns.domain.kinds import KNOWN_KINDS
from shared.domain.paris import PARIS
from tests.support.campaign_builders import paris

ZONE_C_WINTER_HOLIDAYS = (date(2026, 2, 21), date(2026, 3, 8))  # Saturday 21 Feb to the Sunday before 9 March


@pytest.mark.parametrize("campaign", DEMO_CAMPAIGNS, ids=lambda c: c.id)
def test_demo_campaign_passes_every_rule(campaign):
    assert campaign_violations(campaign) == []
    assert campaign.kind in KNOWN_KINDS
    assert campaign.offers and campaign.published_at < campaign.opens_at


@pytest.mark.parametrize("campaign", DEMO_CAMPAIGNS, ids=lambda c: c.id)
def test_demo_campaign_would_publish_afresh(campaign):
    draft = replace(campaign, published_at=None)
    assert publish_campaign(draft, campaign.published_at).published_at == campaign.published_at


def test_demo_ids_are_unique_across_campaigns():
    ids = [c.id for c in DEMO_CAMPAIGNS] + [o.id for c in DEMO_CAMPAIGNS for o in c.offers]
    assert len(ids) == len(set(ids))


def test_sport_vacances_window_and_stages():
    psv = SPORT_VACANCES_HIVER_2026
    assert (to_paris_iso(psv.opens_at), to_paris_iso(psv.closes_at)) == (
        "2026-02-02T00:01:00+01:00", "2026-02-27T23:59:00+01:00")
    assert psv.opens_at.astimezone(PARIS).strftime("%A") == "Monday"
    assert psv.closes_at.astimezone(PARIS).strftime("%A") == "Friday"
    for offer in psv.offers:
        assert ZONE_C_WINTER_HOLIDAYS[0] <= offer.starts_on <= offer.ends_on <= ZONE_C_WINTER_HOLIDAYS[1]
        assert 12 <= offer.capacity <= 24 and 7 <= offer.min_age <= offer.max_age <= 17
    assert {"Multisport", "Escalade", "Natation", "Théâtre", "Arts plastiques"} <= {
        o.title.split(" — ")[0] for o in psv.offers}
    assert len({o.arrondissement for o in psv.offers}) >= 5


def test_sport_vacances_policy():
    policy = SPORT_VACANCES_HIVER_2026.policy
    assert policy.mode is AllocationMode.PRIORITY_LOTTERY
    assert [(c.name, c.max_tranche) for c in policy.criteria] == [
        (CriterionName.QUOTIENT_TRANCHE_AT_MOST, 3),
        (CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT, None),
        (CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN, None),
    ]
    assert policy.lottery_weight_per_unsuccessful_year == 1
    [reserved] = policy.reserved_shares
    assert (reserved.criterion, reserved.share) == (policy.criteria[0], Decimal("0.20"))
    assert policy.acceptance_delay_hours == 36 and policy.keep_siblings_together


def test_sport_vacances_deadline_falls_before_the_stages_start():
    """Issue 18: the demo's deadline (72 h after a draw on 28 February) fell on Tuesday 3 March, after the
    stages' Monday start. A place offered at the close now has to be accepted by Sunday noon."""
    campaign = SPORT_VACANCES_HIVER_2026
    policy = campaign.policy
    offered_at = campaign.effective_closes_at
    for offer in campaign.offers:
        deadline = acceptance_deadline(offered_at, policy.acceptance_delay_hours, offer.starts_on,
                                       policy.acceptance_margin_hours)
        assert to_paris_iso(deadline) == "2026-03-01T12:00:00+01:00"
        assert deadline < datetime.combine(offer.starts_on, time(0), tzinfo=PARIS)


def test_centres_de_loisirs_window_period_and_price():
    centres = CENTRES_LOISIRS_MERCREDI_PRINTEMPS_2026
    assert (to_paris_iso(centres.opens_at), to_paris_iso(centres.closes_at)) == (
        "2026-02-09T00:01:00+01:00", "2026-02-23T23:59:00+01:00")
    assert centres.policy.mode is AllocationMode.FIRST_COME
    offer = centres.offers[0]
    spring_holidays = (date(2026, 4, 18), date(2026, 5, 3))
    wednesdays = [offer.starts_on + timedelta(days=d) for d in range((offer.ends_on - offer.starts_on).days + 1)]
    wednesdays = [d for d in wednesdays if d.weekday() == 2 and not spring_holidays[0] <= d <= spring_holidays[1]]
    assert len(wednesdays) == WEDNESDAYS_IN_PERIOD
    assert offer.starts_on.weekday() == offer.ends_on.weekday() == 2
    assert price_for(offer.tariffs_cents, 1) == 50 * WEDNESDAYS_IN_PERIOD
    assert {(o.min_age, o.max_age) for o in centres.offers} == {(3, 5), (6, 11)}


def test_conservatoire_window_and_exam_sessions():
    crr = CONSERVATOIRE_ADMISSIONS_2026
    assert (to_paris_iso(crr.opens_at), to_paris_iso(crr.closes_at)) == (
        "2026-02-09T10:00:00+01:00", "2026-03-17T15:00:00+01:00")
    assert crr.closes_at.astimezone(PARIS).strftime("%A") == "Tuesday"
    assert crr.policy.mode is AllocationMode.LOTTERY
    disciplines = {o.title.split(" — ")[0] for o in crr.offers}
    assert {"Piano", "Violon", "Danse classique", "Danse contemporaine"} <= disciplines
    assert all(len(set(o.tariffs_cents)) == 1 for o in crr.offers)  # flat fee


def test_demo_statuses_through_the_season():
    when = {
        "2026-01-30": ("scheduled", "scheduled", "scheduled"),
        "2026-02-10": ("open", "open", "open"),
        "2026-02-25": ("open", "closed", "open"),
        "2026-03-10": ("closed", "closed", "open"),
        "2026-03-18": ("closed", "closed", "closed"),
    }
    for day, expected in when.items():
        noon = paris(f"{day}T12:00")
        assert tuple(status_at(c, noon) for c in DEMO_CAMPAIGNS) == tuple(CampaignStatus(s) for s in expected), day

