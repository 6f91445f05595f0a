from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.campaigns.domain import (
    AllocationMode,
    AllocationPolicy,
    CriterionName,
    PriorityCriterion,
    ReservedShare,
    acceptance_deadline,
    reserved_places,
    to_paris_iso,
)
from services.campaigns.domain.policy import policy_violations
from tests.support.campaign_builders import paris

FIRST_COME, LOTTERY, PRIORITY = AllocationMode.FIRST_COME, AllocationMode.LOTTERY, AllocationMode.PRIORITY_LOTTERY
TRANCHE_3 = PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST, max_tranche=3)
RESIDENT = PriorityCriterion(CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT)
NOT_PLACED = PriorityCriterion(CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN)
DISABILITY = PriorityCriterion(CriterionName.DISABILITY_ALLOWANCE)
SINGLE_PARENT = PriorityCriterion(CriterionName.SINGLE_PARENT)
SHARE_TRANCHE_3 = ReservedShare(TRANCHE_3, Decimal("0.20"))


def violations_of(**policy) -> list[tuple[str, str]]:
    return [(v.code, v.field) for v in policy_violations(AllocationPolicy(**policy))]


@pytest.mark.parametrize("policy", [
    dict(mode=FIRST_COME),
    dict(mode=LOTTERY, reserved_shares=(SHARE_TRANCHE_3,), keep_siblings_together=True),
    dict(mode=LOTTERY, lottery_weight_per_unsuccessful_year=2, reserved_shares=(SHARE_TRANCHE_3,)),
    dict(mode=PRIORITY, criteria=(TRANCHE_3, RESIDENT, NOT_PLACED), reserved_shares=(SHARE_TRANCHE_3,),
         lottery_weight_per_unsuccessful_year=1, keep_siblings_together=True),
    dict(mode=PRIORITY, criteria=tuple(PriorityCriterion(c) for c in CriterionName
                                       if c is not CriterionName.QUOTIENT_TRANCHE_AT_MOST)),
    dict(mode=PRIORITY, criteria=(PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST, max_tranche=9),)),
    dict(mode=LOTTERY, acceptance_delay_hours=1),
    dict(mode=LOTTERY, acceptance_delay_hours=720),
    dict(mode=LOTTERY, lottery_weight_per_unsuccessful_year=10),
])
def test_valid_policies(policy):
    assert violations_of(**policy) == []


@pytest.mark.parametrize("policy, expected", [
    (dict(mode=PRIORITY), ("policy.criteria_required", "criteria")),
    (dict(mode=FIRST_COME, criteria=(RESIDENT,)), ("policy.criteria_need_priority_lottery", "criteria.0")),
    (dict(mode=LOTTERY, criteria=(NOT_PLACED,)), ("policy.criteria_need_priority_lottery", "criteria.0")),
    (dict(mode=PRIORITY, criteria=(RESIDENT, RESIDENT)), ("policy.duplicate_criterion", "criteria.1.name")),
    (dict(mode=PRIORITY, criteria=(TRANCHE_3, PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST, max_tranche=5))),
     ("policy.duplicate_criterion", "criteria.1.name")),
    (dict(mode=PRIORITY, criteria=(PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST),)),
     ("policy.max_tranche_out_of_range", "criteria.0.max_tranche")),
    (dict(mode=PRIORITY, criteria=(PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST, max_tranche=10),)),
     ("policy.max_tranche_out_of_range", "criteria.0.max_tranche")),
    (dict(mode=PRIORITY, criteria=(PriorityCriterion(CriterionName.SIBLING_PLACED, max_tranche=3),)),
     ("policy.parameter_not_applicable", "criteria.0.max_tranche")),
    (dict(mode=FIRST_COME, lottery_weight_per_unsuccessful_year=1),
     ("policy.lottery_weight_without_lottery", "lottery_weight_per_unsuccessful_year")),
    (dict(mode=LOTTERY, lottery_weight_per_unsuccessful_year=11),
     ("policy.lottery_weight_out_of_range", "lottery_weight_per_unsuccessful_year")),
    (dict(mode=LOTTERY, lottery_weight_per_unsuccessful_year=-1),
     ("policy.lottery_weight_out_of_range", "lottery_weight_per_unsuccessful_year")),
    (dict(mode=PRIORITY, criteria=(RESIDENT,), reserved_shares=(SHARE_TRANCHE_3,)),
     ("policy.reserved_share_criterion_not_in_policy", "reserved_shares.0.criterion")),
    (dict(mode=PRIORITY, criteria=(PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST, max_tranche=2),),
          reserved_shares=(SHARE_TRANCHE_3,)),
     ("policy.reserved_share_criterion_not_in_policy", "reserved_shares.0.criterion")),
    (dict(mode=LOTTERY, reserved_shares=(ReservedShare(DISABILITY, Decimal(0)),)),
     ("policy.reserved_share_out_of_range", "reserved_shares.0.share")),
    (dict(mode=LOTTERY, reserved_shares=(ReservedShare(DISABILITY, Decimal("1.01")),)),
     ("policy.reserved_share_out_of_range", "reserved_shares.0.share")),
    (dict(mode=LOTTERY, reserved_shares=(ReservedShare(DISABILITY, 0.2),)),
     ("policy.reserved_share_out_of_range", "reserved_shares.0.share")),
    (dict(mode=LOTTERY, reserved_shares=(ReservedShare(DISABILITY, Decimal("NaN")),)),
     ("policy.reserved_share_out_of_range", "reserved_shares.0.share")),
    (dict(mode=LOTTERY, reserved_shares=(ReservedShare(PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST),
                                                    Decimal("0.1")),)),
     ("policy.max_tranche_out_of_range", "reserved_shares.0.criterion.max_tranche")),
    (dict(mode=LOTTERY, reserved_shares=(SHARE_TRANCHE_3, SHARE_TRANCHE_3)),
     ("policy.duplicate_reserved_share", "reserved_shares.1")),
    (dict(mode=LOTTERY, reserved_shares=(ReservedShare(DISABILITY, Decimal("0.5")),
                                      ReservedShare(SINGLE_PARENT, Decimal("0.6")))),
     ("policy.reserved_shares_exceed_total", "reserved_shares")),
    # First come, first served has no draw: siblings kept together and reserved shares are refused.
    (dict(mode=FIRST_COME, keep_siblings_together=True),
     ("policy.siblings_together_need_a_draw", "keep_siblings_together")),
    (dict(mode=FIRST_COME, reserved_shares=(SHARE_TRANCHE_3,)),
     ("policy.reserved_shares_need_a_draw", "reserved_shares")),
    *[(dict(mode=LOTTERY, acceptance_delay_hours=hours),
       ("policy.acceptance_delay_out_of_range", "acceptance_delay_hours")) for hours in (0, 721, 72.0)],
])
def test_policy_rules(policy, expected):
    assert violations_of(**policy) == [expected]


def test_reserved_shares_may_add_up_to_exactly_all_places():
    shares = (ReservedShare(DISABILITY, Decimal("0.3")), ReservedShare(SINGLE_PARENT, Decimal("0.7")))
    assert violations_of(mode=LOTTERY, reserved_shares=shares) == []


@pytest.mark.parametrize("capacity, share, places", [
    (24, Decimal("0.20"), 4),    # 4.8 rounds down
    (12, Decimal("0.20"), 2),
    (10, Decimal("0.20"), 2),
    (4, Decimal("0.20"), 0),
    (3, Decimal("0.5"), 1),
    (16, Decimal("1"), 16),
])
def test_reserved_places_round_down(capacity, share, places):
    assert reserved_places(capacity, share) == places


def test_reserved_places_never_exceed_capacity_when_shares_fit():
    for capacity in range(1, 101):
        assert reserved_places(capacity, Decimal("0.5")) + reserved_places(capacity, Decimal("0.5")) <= capacity


def test_acceptance_delay_is_real_hours_across_the_autumn_change():
    offered_at = paris("2026-10-23T10:00")  # Friday, summer time
    deadline = acceptance_deadline(offered_at, 72)
    assert deadline - offered_at == timedelta(hours=72)
    assert to_paris_iso(deadline) == "2026-10-26T09:00:00+01:00"


def test_acceptance_delay_is_real_hours_across_the_spring_change():
    assert to_paris_iso(acceptance_deadline(paris("2026-03-27T10:00"), 72)) == "2026-03-30T11:00:00+02:00"


def test_acceptance_delay_without_dst_change_keeps_the_wall_clock():
    assert to_paris_iso(acceptance_deadline(paris("2026-02-27T10:00"), 72)) == "2026-03-02T10:00:00+01:00"


def test_acceptance_deadline_needs_an_aware_instant():
    with pytest.raises(ValueError):
        acceptance_deadline(datetime(2026, 3, 1, 10), 72)
    assert acceptance_deadline(datetime(2026, 3, 1, 10, tzinfo=UTC), 1).hour == 11
