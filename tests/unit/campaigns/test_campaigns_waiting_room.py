"""A campaign's waiting room setting: on by default for first-come campaigns only, the managers' choice kept
through clones, impossible values refused naming the field."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.campaigns.domain import RuleViolation, clone_campaign
from services.campaigns.domain.rules import validate_campaign
from services.campaigns.domain.waiting_room import room_enabled, room_snapshot
from shared.domain.policy import AllocationMode
from tests.support.campaign_builders import a_campaign


def test_first_come_campaigns_have_a_room_unless_a_manager_says_otherwise():
    lottery = a_campaign()
    first_come = replace(lottery, policy=replace(lottery.policy, mode=AllocationMode.FIRST_COME))
    assert room_enabled(first_come) and not room_enabled(lottery)
    assert not room_enabled(replace(first_come, waiting_room=False))
    assert room_enabled(replace(lottery, waiting_room=True))
    assert room_snapshot(first_come) == {"enabled": True, "opens_before_minutes": 30, "admissions_per_minute": 1200}


def test_a_clone_keeps_the_room_as_its_managers_set_it():
    source = replace(a_campaign(), waiting_room=True, waiting_room_admissions_per_minute=300,
                     waiting_room_opens_before_minutes=10)
    clone = clone_campaign(source, shift=timedelta(days=364), new_id=lambda: "new-1")
    assert (clone.waiting_room, clone.waiting_room_admissions_per_minute, clone.waiting_room_opens_before_minutes) == (
        True, 300, 10)


@pytest.mark.parametrize(("field", "value"), [
    ("waiting_room_admissions_per_minute", 0), ("waiting_room_admissions_per_minute", 60_001),
    ("waiting_room_opens_before_minutes", -1), ("waiting_room_opens_before_minutes", 1441)])
def test_impossible_room_settings_are_refused_naming_the_field(field, value):
    with pytest.raises(RuleViolation) as refused:
        validate_campaign(replace(a_campaign(), **{field: value}))
    assert [v.field for v in refused.value.violations] == [field]
