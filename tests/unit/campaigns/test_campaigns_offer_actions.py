from dataclasses import replace
from datetime import date

import pytest

from services.campaigns.domain import (
    RuleViolation,
    add_offer,
    remove_offer,
    update_offer,
)
from tests.support.campaign_builders import (
    AFTER_CLOSE,
    BEFORE_OPENING,
    WHILE_OPEN,
    a_campaign,
    a_published_campaign,
    an_offer,
)


def refused(action) -> list[tuple[str, str]]:
    with pytest.raises(RuleViolation) as raised:
        action()
    return [(v.code, v.field) for v in raised.value.violations]


def test_add_offer_until_the_window_closes():
    extra = an_offer(id="offer-2", title="Escalade")
    assert add_offer(a_published_campaign(), extra, WHILE_OPEN).offer("offer-2") == extra
    assert refused(lambda: add_offer(a_published_campaign(), extra, AFTER_CLOSE)) == [("window.closed", "status")]


def test_added_offer_is_checked_with_paths_relative_to_the_offer():
    broken = an_offer(id="offer-1", capacity=0, starts_on=date(2026, 2, 20), ends_on=date(2026, 2, 21))
    assert refused(lambda: add_offer(a_campaign(), broken, BEFORE_OPENING)) == [
        ("offer.starts_before_window_closes", "starts_on"),
        ("offer.capacity_too_small", "capacity"),
        ("offer.duplicate_id", "id"),
    ]


def test_update_offer_changes_fields():
    updated = update_offer(a_campaign(), "offer-1", {"capacity": 20, "title": "Multisport matin"}, BEFORE_OPENING, 0)
    assert (updated.offers[0].capacity, updated.offers[0].title) == (20, "Multisport matin")


def test_capacity_never_below_places_given():
    campaign = a_published_campaign()
    assert update_offer(campaign, "offer-1", {"capacity": 15}, AFTER_CLOSE, places_given=15).offers[0].capacity == 15
    assert refused(lambda: update_offer(campaign, "offer-1", {"capacity": 14}, AFTER_CLOSE, places_given=15)) == [
        ("offer.capacity_below_places_given", "capacity")]


def test_ages_price_and_place_are_locked_once_open():
    changes = {"min_age": 8, "tariffs_cents": (0,) * 10, "arrondissement": 3, "site": "Gymnase Saint-Merri"}
    assert refused(lambda: update_offer(a_published_campaign(), "offer-1", changes, WHILE_OPEN, 0)) == [
        ("offer.field_locked_once_open", "arrondissement"),
        ("offer.field_locked_once_open", "min_age"),
        ("offer.field_locked_once_open", "tariffs_cents"),
    ]
    assert update_offer(a_published_campaign(), "offer-1", changes, BEFORE_OPENING, 0).offers[0].min_age == 8


def test_update_offer_refuses_unknown_offers_and_fields():
    assert refused(lambda: update_offer(a_campaign(), "nope", {"capacity": 3}, BEFORE_OPENING, 0)) == [
        ("offer.not_found", "offer_id")]
    assert refused(lambda: update_offer(a_campaign(), "offer-1", {"id": "x"}, BEFORE_OPENING, 0)) == [
        ("offer.field_not_editable", "id")]


def test_update_offer_checks_the_result():
    assert refused(lambda: update_offer(a_campaign(), "offer-1", {"max_age": 18}, BEFORE_OPENING, 0)) == [
        ("offer.age_outside_kind_range", "max_age")]


def test_update_offer_refused_on_archived_campaign():
    archived = replace(a_published_campaign(), archived_at=AFTER_CLOSE)
    assert refused(lambda: update_offer(archived, "offer-1", {"capacity": 30}, AFTER_CLOSE, 0)) == [
        ("campaign.archived", "status")]


def test_negative_places_given_is_a_programming_error():
    with pytest.raises(ValueError):
        update_offer(a_campaign(), "offer-1", {"capacity": 30}, BEFORE_OPENING, -1)


def test_remove_offer_before_opening_only():
    campaign = a_campaign(offers=(an_offer(), an_offer(id="offer-2")))
    assert [o.id for o in remove_offer(campaign, "offer-1", BEFORE_OPENING).offers] == ["offer-2"]
    assert refused(lambda: remove_offer(replace(campaign, published_at=BEFORE_OPENING), "offer-1", WHILE_OPEN)) == [
        ("offer.not_removable_once_open", "offer_id")]


def test_published_campaign_keeps_its_last_offer():
    assert refused(lambda: remove_offer(a_published_campaign(), "offer-1", BEFORE_OPENING)) == [
        ("campaign.offer_required", "offers")]
    assert remove_offer(a_campaign(), "offer-1", BEFORE_OPENING).offers == ()
