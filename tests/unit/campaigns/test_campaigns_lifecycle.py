"""Issue 18, item 3: a campaign's life after its window, and the terms that bound what follows the draw."""
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.campaigns.domain import (
    ARCHIVE_AFTER_SEASON,
    AllocationPolicy,
    CampaignStatus,
    RuleViolation,
    acceptance_deadline,
    archive_campaign,
    campaign_violations,
    create_campaign,
    record_draw_published,
    season_over,
    status_at,
    to_paris_iso,
    update_campaign,
)
from services.campaigns.domain.rules import last_day_open
from shared.domain.policy import AllocationMode
from tests.support.campaign_builders import (
    AFTER_CLOSE,
    BEFORE_OPENING,
    WHILE_OPEN,
    a_campaign,
    a_published_campaign,
    an_offer,
    paris,
)


def codes(error: RuleViolation) -> list[tuple[str, str]]:
    return [(v.code, v.field) for v in error.violations]


# --- the close: inclusive to the minute -------------------------------------------------------------

def test_until_23h59_keeps_its_last_minute_and_closes_at_midnight():
    campaign = a_published_campaign(closes_at=paris("2026-02-23T23:59"))
    assert status_at(campaign, paris("2026-02-23T23:59:00")) is CampaignStatus.OPEN
    assert status_at(campaign, paris("2026-02-23T23:59:59.999999")) is CampaignStatus.OPEN
    assert status_at(campaign, paris("2026-02-24T00:00")) is CampaignStatus.CLOSED
    assert to_paris_iso(campaign.effective_closes_at) == "2026-02-24T00:00:00+01:00"


def test_seconds_in_the_close_do_not_shorten_its_minute():
    campaign = a_published_campaign(closes_at=paris("2026-02-23T23:59:30"))
    assert status_at(campaign, paris("2026-02-23T23:59:45")) is CampaignStatus.OPEN
    assert to_paris_iso(campaign.effective_closes_at) == "2026-02-24T00:00:00+01:00"


def test_an_early_close_is_exact():
    campaign = replace(a_published_campaign(), closed_early_at=WHILE_OPEN)
    assert campaign.effective_closes_at == WHILE_OPEN
    assert status_at(campaign, WHILE_OPEN) is CampaignStatus.CLOSED


def test_a_drawn_offer_may_start_the_day_after_a_window_open_until_23h59():
    campaign = a_campaign(closes_at=paris("2026-02-27T23:59"), offers=(an_offer(starts_on=date(2026, 2, 28)),))
    assert last_day_open(campaign) == date(2026, 2, 27)
    assert campaign_violations(campaign) == []
    same_day = a_campaign(closes_at=paris("2026-02-27T23:59"), offers=(an_offer(starts_on=date(2026, 2, 27)),))
    assert [v.code for v in campaign_violations(same_day)] == ["offer.starts_before_window_closes"]


# --- allocated, archived --------------------------------------------------------------------------

def test_the_draws_publication_makes_a_closed_campaign_allocated_once():
    campaign = a_published_campaign()
    drawn = record_draw_published(campaign, AFTER_CLOSE, AFTER_CLOSE)
    assert status_at(drawn, AFTER_CLOSE) is CampaignStatus.ALLOCATED and drawn.allocated_at == AFTER_CLOSE
    # A redelivered announcement changes nothing, not even the instant.
    assert record_draw_published(drawn, AFTER_CLOSE + timedelta(hours=1), AFTER_CLOSE + timedelta(hours=1)) is drawn


def test_a_draw_announced_for_an_open_campaign_is_refused():
    with pytest.raises(RuleViolation) as refused:
        record_draw_published(a_published_campaign(), WHILE_OPEN, WHILE_OPEN)
    assert codes(refused.value) == [("campaign.not_closed", "status")]


def test_a_draw_announced_after_archiving_leaves_it_archived():
    archived = archive_campaign(a_published_campaign(), AFTER_CLOSE)
    assert record_draw_published(archived, AFTER_CLOSE, AFTER_CLOSE) is archived


def test_archiving_is_idempotent_and_keeps_the_first_instant():
    archived = archive_campaign(a_published_campaign(), AFTER_CLOSE)
    assert status_at(archived, AFTER_CLOSE) is CampaignStatus.ARCHIVED
    assert archive_campaign(archived, AFTER_CLOSE + timedelta(days=1)) is archived


@pytest.mark.parametrize("now", [BEFORE_OPENING, WHILE_OPEN])
def test_scheduled_or_open_campaigns_are_not_archived(now):
    with pytest.raises(RuleViolation) as refused:
        archive_campaign(a_published_campaign(), now)
    assert codes(refused.value) == [("campaign.not_archivable", "status")]


def test_the_season_is_over_thirty_days_after_the_last_offer_ends():
    campaign = a_published_campaign(offers=(an_offer(), an_offer(id="offer-2", ends_on=date(2026, 3, 20))))
    last_day = date(2026, 3, 20) + ARCHIVE_AFTER_SEASON
    assert not season_over(campaign, paris(f"{last_day}T23:59"))
    assert season_over(campaign, paris(f"{last_day + timedelta(days=1)}T00:00"))
    # Drafts are the managers' to archive; an archived campaign is over already.
    assert not season_over(a_campaign(), paris("2027-01-01T00:00"))
    assert not season_over(archive_campaign(campaign, AFTER_CLOSE), paris("2027-01-01T00:00"))


# --- acceptance deadlines, waitlists, withdrawals -------------------------------------------------

def test_the_acceptance_deadline_is_capped_before_the_activity_starts():
    offered_at = paris("2026-02-28T00:05")  # 72 h later is Tuesday 3 March, the stage starts Monday 2
    assert to_paris_iso(acceptance_deadline(offered_at, 72, date(2026, 3, 2), 24)) == "2026-03-01T00:00:00+01:00"
    assert to_paris_iso(acceptance_deadline(offered_at, 12, date(2026, 3, 2), 24)) == "2026-02-28T12:05:00+01:00"
    assert to_paris_iso(acceptance_deadline(offered_at, 72, date(2026, 3, 2), 0)) == "2026-03-02T00:00:00+01:00"


@pytest.mark.parametrize("margin", [-1, 721, True, "24"])
def test_the_margin_is_checked(margin):
    campaign = a_campaign(policy=AllocationPolicy(AllocationMode.LOTTERY, acceptance_margin_hours=margin))
    assert [(v.code, v.field) for v in campaign_violations(campaign)] == [
        ("policy.acceptance_margin_out_of_range", "policy.acceptance_margin_hours")]


def test_waitlists_close_after_the_window():
    campaign = a_campaign(waitlist_closes_at=paris("2026-02-27T23:59:30"))
    assert [(v.code, v.field) for v in campaign_violations(campaign)] == [
        ("waitlist.closes_before_window", "waitlist_closes_at")]
    assert campaign_violations(a_campaign(waitlist_closes_at=paris("2026-03-01T12:00"))) == []


@pytest.mark.parametrize("fee", [-1, 1.5, True, 2**31])
def test_the_late_withdrawal_fee_is_whole_cents(fee):
    assert [(v.code, v.field) for v in campaign_violations(a_campaign(late_withdrawal_fee_cents=fee))] == [
        ("withdrawal.fee_out_of_range", "late_withdrawal_fee_cents")]


def test_lifecycle_terms_are_set_at_creation_and_kept_in_utc():
    campaign = create_campaign(
        id="c", title="t", kind="sport_vacances", description="", opens_at=paris("2026-02-02T00:01"),
        closes_at=paris("2026-02-27T23:59"), reference_date=date(2026, 3, 2), max_choices=3,
        policy=AllocationPolicy(AllocationMode.LOTTERY), offers=(an_offer(),),
        waitlist_closes_at=paris("2026-03-01T12:00"), free_withdrawal_until=paris("2026-03-01T20:00"),
        late_withdrawal_fee_cents=500)
    assert campaign.waitlist_closes_at == datetime(2026, 3, 1, 11, tzinfo=UTC)
    assert campaign.free_withdrawal_until.tzinfo is UTC and campaign.late_withdrawal_fee_cents == 500


def test_the_late_fee_is_fixed_once_families_applied_but_the_waitlist_close_moves():
    campaign = a_published_campaign()
    with pytest.raises(RuleViolation) as refused:
        update_campaign(campaign, {"late_withdrawal_fee_cents": 900}, WHILE_OPEN)
    assert codes(refused.value) == [("campaign.field_locked_once_open", "late_withdrawal_fee_cents")]
    moved = update_campaign(campaign, {"waitlist_closes_at": paris("2026-03-01T12:00")}, WHILE_OPEN)
    assert moved.waitlist_closes_at == paris("2026-03-01T12:00")
