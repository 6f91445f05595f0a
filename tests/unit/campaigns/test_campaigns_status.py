from dataclasses import replace
from datetime import timedelta

import pytest

from services.campaigns.domain import (
    CampaignStatus,
    TransitionKind,
    due_transitions,
    status_at,
)
from tests.support.campaign_builders import (
    AFTER_CLOSE,
    BEFORE_OPENING,
    CLOSES_AT,
    OPENS_AT,
    WHILE_OPEN,
    a_campaign,
    a_published_campaign,
    paris,
)

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize("now, expected", [
    (BEFORE_OPENING, CampaignStatus.SCHEDULED),
    (OPENS_AT - SECOND, CampaignStatus.SCHEDULED),
    (OPENS_AT, CampaignStatus.OPEN),
    # Closes are inclusive to the minute (docs/campaigns.md): "until 23:59" keeps all of 23:59.
    (CLOSES_AT - SECOND, CampaignStatus.OPEN),
    (CLOSES_AT, CampaignStatus.OPEN),
    (CLOSES_AT + MINUTE - timedelta(microseconds=1), CampaignStatus.OPEN),
    (CLOSES_AT + MINUTE, CampaignStatus.CLOSED),
    (AFTER_CLOSE, CampaignStatus.CLOSED),
])
def test_published_campaign_follows_its_window(now, expected):
    assert status_at(a_published_campaign(), now) is expected


def test_unpublished_campaign_stays_draft_whatever_the_time():
    assert {status_at(a_campaign(), now) for now in (BEFORE_OPENING, WHILE_OPEN, AFTER_CLOSE)} == {CampaignStatus.DRAFT}


def test_closed_early_campaign_is_closed_from_that_instant():
    campaign = replace(a_published_campaign(), closed_early_at=WHILE_OPEN)
    assert status_at(campaign, WHILE_OPEN - SECOND) is CampaignStatus.OPEN
    assert status_at(campaign, WHILE_OPEN) is CampaignStatus.CLOSED


def test_allocated_then_archived():
    allocated = replace(a_published_campaign(), allocated_at=AFTER_CLOSE)
    assert status_at(allocated, AFTER_CLOSE) is CampaignStatus.ALLOCATED
    assert status_at(replace(allocated, archived_at=AFTER_CLOSE), AFTER_CLOSE) is CampaignStatus.ARCHIVED


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        status_at(a_campaign(), OPENS_AT.replace(tzinfo=None))


def test_window_opening_on_the_spring_forward_night():
    # 03:00 is the first instant of 29 March 2026 after 01:59:59 on the Paris clock.
    campaign = a_published_campaign(opens_at=paris("2026-03-29T03:00"), closes_at=paris("2026-04-05T23:59"))
    assert status_at(campaign, paris("2026-03-29T01:59:59")) is CampaignStatus.SCHEDULED
    assert paris("2026-03-29T03:00") - paris("2026-03-29T01:59:59") == SECOND
    assert status_at(campaign, paris("2026-03-29T03:00")) is CampaignStatus.OPEN


@pytest.mark.parametrize("offset, opens_utc_hour", [("+02:00", 0), ("+01:00", 1)])
def test_window_opening_in_the_doubled_hour_of_the_fall_back_night(offset, opens_utc_hour):
    opens_at = paris(f"2026-10-25T02:30{offset}")
    campaign = a_published_campaign(opens_at=opens_at, closes_at=paris("2026-11-01T23:59"))
    assert opens_at.hour == opens_utc_hour
    assert status_at(campaign, opens_at - SECOND) is CampaignStatus.SCHEDULED
    assert status_at(campaign, opens_at) is CampaignStatus.OPEN


def test_window_closing_on_the_fall_back_night_lasts_the_extra_hour():
    campaign = a_published_campaign(opens_at=paris("2026-10-24T22:00"), closes_at=paris("2026-10-25T03:00"))
    assert campaign.closes_at - campaign.opens_at == timedelta(hours=6)
    assert status_at(campaign, paris("2026-10-25T02:30+01:00")) is CampaignStatus.OPEN


def test_due_transitions_nothing_before_opening():
    assert due_transitions(a_published_campaign(), BEFORE_OPENING, set()) == []


def test_due_transitions_opened_once():
    campaign = a_published_campaign()
    [opened] = due_transitions(campaign, OPENS_AT, set())
    assert (opened.kind, opened.at) == (TransitionKind.OPENED, OPENS_AT)
    assert opened.key == "campaign-1:opened:2026-02-01T23:01:00Z"
    assert opened.event_type == "campaign.opened"
    assert due_transitions(campaign, WHILE_OPEN, {opened.key}) == []


def test_scheduler_down_across_the_whole_window_gets_both_in_order():
    transitions = due_transitions(a_published_campaign(), AFTER_CLOSE, set())
    assert [t.kind for t in transitions] == [TransitionKind.OPENED, TransitionKind.CLOSED]
    assert transitions[1].at == CLOSES_AT + MINUTE


def test_restarted_scheduler_only_gets_what_it_has_not_emitted():
    campaign = a_published_campaign()
    emitted = {t.key for t in due_transitions(campaign, WHILE_OPEN, set())}
    [closed] = due_transitions(campaign, AFTER_CLOSE, emitted)
    assert closed.kind is TransitionKind.CLOSED
    assert due_transitions(campaign, AFTER_CLOSE, emitted | {closed.key}) == []


def test_closing_early_makes_the_close_due_at_once():
    campaign = replace(a_published_campaign(), closed_early_at=WHILE_OPEN)
    opened_key = due_transitions(campaign, OPENS_AT, set())[0].key
    [closed] = due_transitions(campaign, WHILE_OPEN, {opened_key})
    assert (closed.kind, closed.at) == (TransitionKind.CLOSED, WHILE_OPEN)


def test_extended_close_is_announced_at_the_new_instant_only():
    extended = a_published_campaign(closes_at=CLOSES_AT + timedelta(days=7))
    opened_key = due_transitions(extended, WHILE_OPEN, set())[0].key
    assert due_transitions(extended, AFTER_CLOSE, {opened_key}) == []
    assert due_transitions(extended, CLOSES_AT + timedelta(days=7), {opened_key}) == []
    [closed] = due_transitions(extended, CLOSES_AT + timedelta(days=7) + MINUTE, {opened_key})
    assert closed.at == CLOSES_AT + timedelta(days=7) + MINUTE


def test_drafts_and_archived_campaigns_announce_nothing():
    assert due_transitions(a_campaign(), AFTER_CLOSE, set()) == []
    assert due_transitions(replace(a_published_campaign(), archived_at=AFTER_CLOSE), AFTER_CLOSE, set()) == []
