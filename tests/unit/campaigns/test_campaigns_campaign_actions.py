from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.campaigns.domain import (
    AllocationMode,
    AllocationPolicy,
    CampaignStatus,
    RuleViolation,
    archive_campaign,
    close_early,
    create_campaign,
    extend_close,
    mark_allocated,
    publish_campaign,
    status_at,
    update_campaign,
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

LATER = timedelta(days=2)


def refused(action) -> list[tuple[str, str]]:
    with pytest.raises(RuleViolation) as raised:
        action()
    return [(v.code, v.field) for v in raised.value.violations]


def new_campaign(**overrides):
    fields = dict(
        id="c-2", title="Centres de loisirs", kind="centre_loisirs_mercredi", description="Mercredis",
        opens_at=paris("2026-02-09T00:01"), closes_at=paris("2026-02-23T23:59"),
        reference_date=date(2026, 3, 11), max_choices=2,
        policy=AllocationPolicy(AllocationMode.FIRST_COME),
    )
    return create_campaign(**{**fields, **overrides})


def test_create_makes_a_draft_stored_in_utc():
    campaign = new_campaign(opens_at=datetime(2026, 2, 9, 0, 1, tzinfo=timezone(timedelta(hours=1))))
    assert campaign.opens_at == datetime(2026, 2, 8, 23, 1, tzinfo=UTC)
    assert campaign.opens_at.tzinfo is UTC
    assert status_at(campaign, BEFORE_OPENING) is CampaignStatus.DRAFT
    assert campaign.offers == ()


def test_create_refuses_naive_instants_and_broken_rules():
    assert refused(lambda: new_campaign(opens_at=datetime(2026, 2, 9))) == [("datetime.timezone_required", "opens_at")]
    assert refused(lambda: new_campaign(closes_at=paris("2026-02-01T00:00"))) == [
        ("window.closes_before_opens", "closes_at")]


def test_publish_schedules_a_campaign_before_its_window():
    published = publish_campaign(a_campaign(), BEFORE_OPENING)
    assert published.published_at == BEFORE_OPENING
    assert status_at(published, BEFORE_OPENING) is CampaignStatus.SCHEDULED


def test_publish_late_opens_at_once():
    assert status_at(publish_campaign(a_campaign(), WHILE_OPEN), WHILE_OPEN) is CampaignStatus.OPEN


def test_publish_needs_an_offer_a_future_close_and_a_draft():
    assert refused(lambda: publish_campaign(a_campaign(offers=()), BEFORE_OPENING)) == [
        ("campaign.offer_required", "offers")]
    assert refused(lambda: publish_campaign(a_campaign(), AFTER_CLOSE)) == [("window.closes_in_past", "closes_at")]
    assert refused(lambda: publish_campaign(a_published_campaign(), BEFORE_OPENING)) == [
        ("campaign.already_published", "status")]


def test_update_changes_editable_fields_and_keeps_utc():
    changes = {"title": "PSV hiver", "opens_at": paris("2026-02-03T09:00")}
    updated = update_campaign(a_campaign(), changes, BEFORE_OPENING)
    assert (updated.title, updated.opens_at) == ("PSV hiver", datetime(2026, 2, 3, 8, 0, tzinfo=UTC))


def test_update_refuses_status_fields():
    assert refused(lambda: update_campaign(a_campaign(), {"published_at": WHILE_OPEN, "id": "x"}, WHILE_OPEN)) == [
        ("campaign.field_not_editable", "published_at"), ("campaign.field_not_editable", "id")]


def test_opening_time_can_move_until_the_window_opens():
    moved = update_campaign(a_published_campaign(), {"opens_at": OPENS_AT + LATER}, BEFORE_OPENING)
    assert moved.opens_at == OPENS_AT + LATER


def test_opening_time_is_locked_once_open():
    assert refused(lambda: update_campaign(a_published_campaign(), {"opens_at": OPENS_AT + LATER}, WHILE_OPEN)) == [
        ("window.opens_at_locked", "opens_at")]


def test_terms_families_applied_on_are_locked_once_open():
    changes = {"max_choices": 5, "policy": AllocationPolicy(AllocationMode.FIRST_COME), "kind": "sport_ete"}
    assert refused(lambda: update_campaign(a_published_campaign(), changes, WHILE_OPEN)) == [
        ("campaign.field_locked_once_open", "kind"),
        ("campaign.field_locked_once_open", "max_choices"),
        ("campaign.field_locked_once_open", "policy"),
    ]


def test_sending_unchanged_values_back_is_not_a_change():
    campaign = a_published_campaign()
    unchanged = {"opens_at": campaign.opens_at, "policy": campaign.policy, "title": "Nouveau titre"}
    assert update_campaign(campaign, unchanged, WHILE_OPEN).title == "Nouveau titre"


def test_equal_instant_in_another_offset_is_unchanged():
    campaign = a_published_campaign()
    same_instant = campaign.opens_at.astimezone(timezone(timedelta(hours=1)))
    assert update_campaign(campaign, {"opens_at": same_instant}, WHILE_OPEN) == campaign


def test_open_window_close_moves_later_but_not_earlier():
    campaign = a_published_campaign()
    assert update_campaign(campaign, {"closes_at": CLOSES_AT - LATER}, BEFORE_OPENING).closes_at == CLOSES_AT - LATER
    assert refused(lambda: update_campaign(campaign, {"closes_at": CLOSES_AT - LATER}, WHILE_OPEN)) == [
        ("window.close_moved_earlier", "closes_at")]


def test_published_close_cannot_move_into_the_past():
    campaign = a_published_campaign()
    assert refused(lambda: update_campaign(campaign, {"closes_at": BEFORE_OPENING}, BEFORE_OPENING)) == [
        ("window.closes_in_past", "closes_at")]
    assert update_campaign(a_campaign(), {"opens_at": BEFORE_OPENING - LATER, "closes_at": BEFORE_OPENING},
                           WHILE_OPEN).closes_at == BEFORE_OPENING  # a draft is not announced: anything goes


def test_archived_campaign_is_read_only():
    archived = replace(a_published_campaign(), archived_at=AFTER_CLOSE)
    assert refused(lambda: update_campaign(archived, {"title": "x"}, AFTER_CLOSE)) == [("campaign.archived", "status")]


def test_close_early_only_while_open():
    closed = close_early(a_published_campaign(), WHILE_OPEN)
    assert closed.closed_early_at == WHILE_OPEN and closed.closes_at == CLOSES_AT
    assert status_at(closed, WHILE_OPEN) is CampaignStatus.CLOSED
    assert refused(lambda: close_early(a_published_campaign(), BEFORE_OPENING)) == [("campaign.not_open", "status")]
    assert refused(lambda: close_early(closed, WHILE_OPEN)) == [("campaign.not_open", "status")]


def test_extend_close_while_open():
    extended = extend_close(a_published_campaign(), paris("2026-02-28T12:00"), WHILE_OPEN)
    assert extended.closes_at == paris("2026-02-28T12:00")


def test_extension_must_be_later_and_before_the_close():
    assert refused(lambda: extend_close(a_published_campaign(), CLOSES_AT, WHILE_OPEN)) == [
        ("window.extension_not_later", "closes_at")]
    assert refused(lambda: extend_close(a_published_campaign(), CLOSES_AT + LATER, AFTER_CLOSE)) == [
        ("window.closed", "status")]
    closed_early = close_early(a_published_campaign(), WHILE_OPEN)
    assert refused(lambda: extend_close(closed_early, CLOSES_AT + LATER, WHILE_OPEN)) == [("window.closed", "status")]


def test_extension_past_an_offer_start_is_refused():
    # The offer starts Monday 2 March: applications cannot still be open that day.
    assert refused(lambda: extend_close(a_published_campaign(), paris("2026-03-02T08:00"), WHILE_OPEN)) == [
        ("offer.starts_before_window_closes", "offers.0.starts_on")]


def test_allocation_then_archive():
    allocated = mark_allocated(a_published_campaign(), AFTER_CLOSE)
    assert status_at(allocated, AFTER_CLOSE) is CampaignStatus.ALLOCATED
    assert status_at(archive_campaign(allocated, AFTER_CLOSE), AFTER_CLOSE) is CampaignStatus.ARCHIVED


def test_allocation_needs_a_closed_window():
    assert refused(lambda: mark_allocated(a_published_campaign(), WHILE_OPEN)) == [("campaign.not_closed", "status")]


def test_only_inactive_campaigns_are_archived():
    assert archive_campaign(a_campaign(), WHILE_OPEN).archived_at == WHILE_OPEN
    assert archive_campaign(a_published_campaign(), AFTER_CLOSE).archived_at == AFTER_CLOSE
    for now in (BEFORE_OPENING, WHILE_OPEN):
        assert refused(lambda now=now: archive_campaign(a_published_campaign(), now)) == [
            ("campaign.not_archivable", "status")]
