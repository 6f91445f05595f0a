from dataclasses import replace
from datetime import date, timedelta
from itertools import count

import pytest

from services.campaigns.domain import (
    CampaignStatus,
    RuleViolation,
    clone_campaign,
    status_at,
    to_paris_iso,
)
from tests.support.campaign_builders import AFTER_CLOSE, a_campaign, an_offer, paris


def sequential_ids():
    numbers = count(1)
    return lambda: f"new-{next(numbers)}"


def last_winter():
    """Winter 2025 as it ended: published, closed early, allocated."""
    campaign = a_campaign(
        id="psv-hiver-2025", title="PSV hiver 2025",
        opens_at=paris("2025-02-03T00:01"), closes_at=paris("2025-02-28T23:59"), reference_date=date(2025, 3, 3),
        offers=(an_offer(id="o-1", starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 7)),
                an_offer(id="o-2", starts_on=date(2025, 3, 10), ends_on=date(2025, 3, 14))),
    )
    return replace(campaign, published_at=paris("2025-01-20T10:00"), closed_early_at=paris("2025-02-27T12:00"),
                   allocated_at=paris("2025-03-01T09:00"))


def test_clone_by_364_days_keeps_weekdays_and_resets_to_draft():
    clone = clone_campaign(last_winter(), shift=timedelta(days=364), title="PSV hiver 2026", new_id=sequential_ids())
    assert (clone.id, clone.title, clone.cloned_from_id) == ("new-1", "PSV hiver 2026", "psv-hiver-2025")
    assert to_paris_iso(clone.opens_at) == "2026-02-02T00:01:00+01:00"
    assert to_paris_iso(clone.closes_at) == "2026-02-27T23:59:00+01:00"  # the planned close, not the early one
    assert [(o.id, o.starts_on, o.ends_on) for o in clone.offers] == [
        ("new-2", date(2026, 3, 2), date(2026, 3, 6)), ("new-3", date(2026, 3, 9), date(2026, 3, 13))]
    assert clone.reference_date == date(2026, 3, 2)
    assert (clone.published_at, clone.closed_early_at, clone.allocated_at, clone.archived_at) == (None,) * 4
    assert status_at(clone, AFTER_CLOSE) is CampaignStatus.DRAFT
    assert clone.policy == last_winter().policy


def test_clone_to_a_new_opening_moves_everything_by_the_same_wall_clock_offset():
    clone = clone_campaign(last_winter(), new_opens_at=paris("2026-02-02T08:00"), new_id=sequential_ids())
    assert to_paris_iso(clone.opens_at) == "2026-02-02T08:00:00+01:00"
    assert to_paris_iso(clone.closes_at) == "2026-02-28T07:58:00+01:00"
    assert clone.offers[0].starts_on == date(2026, 3, 2)


def test_clone_into_summer_keeps_the_paris_wall_clock():
    clone = clone_campaign(last_winter(), new_opens_at=paris("2025-06-02T00:01"), new_id=sequential_ids(),
                           reference_date=date(2025, 7, 7))
    assert to_paris_iso(clone.opens_at) == "2025-06-02T00:01:00+02:00"
    assert to_paris_iso(clone.closes_at) == "2025-06-27T23:59:00+02:00"
    assert clone.reference_date == date(2025, 7, 7)


def test_clone_needs_exactly_one_way_to_move():
    for kwargs in ({}, {"shift": timedelta(days=364), "new_opens_at": paris("2026-02-02T00:01")}):
        with pytest.raises(RuleViolation) as raised:
            clone_campaign(last_winter(), **kwargs)
        assert raised.value.codes == ["clone.shift_required"]


def test_clone_landing_in_the_spring_gap_is_refused():
    source = a_campaign(opens_at=paris("2025-03-28T02:30"), closes_at=paris("2025-04-04T12:00"), offers=())
    with pytest.raises(RuleViolation) as raised:
        clone_campaign(source, shift=timedelta(days=366))
    assert [(v.code, v.field) for v in raised.value.violations] == [("datetime.nonexistent_local_time", "opens_at")]


def test_default_ids_are_fresh_uuids():
    first, second = clone_campaign(last_winter(), shift=timedelta(days=364)), clone_campaign(last_winter(),
                                                                                            shift=timedelta(days=364))
    assert first.id != second.id and len(first.id) == 36
    assert {o.id for o in first.offers}.isdisjoint({o.id for o in second.offers})
