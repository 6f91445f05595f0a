"""What the campaigns API reads and writes. Schemas check shapes and types only: every business
rule is the domain's, so an API client and a unit test meet the same rules and messages."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import marshmallow as ma

from services.campaigns.domain import (
    AllocationMode,
    AllocationPolicy,
    CampaignStatus,
    CriterionName,
    Offer,
    RuleViolation,
    parse_paris_datetime,
    status_at,
    to_paris_iso,
)
from services.campaigns.domain.offer_actions import MAX_OFFERS_PER_CAMPAIGN
from services.campaigns.store.policy_codec import policy_from_json
from services.campaigns.store.repository import StoredCampaign
from shared.contracts.fields import described
from shared.schema_fields import Text, bounded_list

# Limits of what can be stored, checked here so the database never refuses a request with a 500:
# 32-bit integers, text without NUL or control characters (shared.schema_fields.Text), and dates in a span every instant conversion can handle.
STORABLE_INT = ma.validate.Range(min=-(2**31), max=2**31 - 1)
SUPPORTED_DATES = ma.validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31),
                                    error="Dates go from 2000-01-01 to 2100-12-31.")


# Bounds on what one request may carry: the unpaged manager listing weighs what its campaigns' offers weigh.
MAX_OFFERS = MAX_OFFERS_PER_CAMPAIGN  # created with the campaign; the domain checks offers added later
MAX_POLICY_ENTRIES = 12  # priority criteria or reserved shares: a handful of criteria exists
TARIFF_TRANCHES = 10
# Titles and sites: the domain's rules bound them (rules.MAX_TITLE_LENGTH) with their own messages.
MAX_QUERY_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000


class CalendarDate(ma.fields.Date):
    def __init__(self, **kwargs: Any):
        super().__init__(validate=SUPPORTED_DATES, **kwargs)


class ParisDateTime(ma.fields.DateTime):
    """Read as Europe/Paris: without an offset the text is Paris wall-clock time (refused when
    daylight saving makes it missing or doubled); written as Paris time with its offset."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        try:
            instant = parse_paris_datetime(value, attr or "datetime")
        except RuleViolation as broken:
            raise ma.ValidationError(broken.violations[0].message) from broken
        except OverflowError as overflow:
            raise ma.ValidationError(SUPPORTED_DATES.error) from overflow
        SUPPORTED_DATES(instant.date())
        return instant

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else to_paris_iso(value)


class TopLevelPartial:
    """For PATCH: every top-level field optional; a nested object (the policy) is still sent whole."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, partial=tuple(self._declared_fields), **kwargs)


# --- allocation policy --------------------------------------------------------------------------

class PriorityCriterionSchema(ma.Schema):
    name = described(ma.fields.String, "single_parent, quotient_tranche_at_most, disability_allowance, sibling_placed, "
                     "resident_of_offer_arrondissement or not_placed_previous_campaign", required=True,
                     validate=ma.validate.OneOf(list(CriterionName)))
    max_tranche = described(ma.fields.Integer, "for quotient_tranche_at_most only: the highest family-quotient "
                            "tranche (1–9) that qualifies", allow_none=True, load_default=None)


class ReservedShareSchema(ma.Schema):
    criterion = ma.fields.Nested(PriorityCriterionSchema, required=True,
                                 metadata={"description": "the families the places are kept for"})
    share = described(ma.fields.Float, "fraction of each offer's capacity kept for them, more than 0 and at most 1 "
                      "(0.2 for 20 %), rounded down per offer", required=True)


class PolicySchema(ma.Schema):
    mode = described(ma.fields.String, "fcfs (arrival order), lottery, or priority_lottery (lottery within "
                     "priority tiers)", required=True, validate=ma.validate.OneOf(list(AllocationMode)))
    criteria = bounded_list(ma.fields.Nested(PriorityCriterionSchema), MAX_POLICY_ENTRIES, load_default=list, metadata={
        "description": "priority criteria, most important first; only for priority_lottery"})
    reserved_shares = bounded_list(ma.fields.Nested(ReservedShareSchema), MAX_POLICY_ENTRIES, load_default=list,
                                   metadata={
        "description": "places reserved per criterion; unused reserved places go to everyone"})
    lottery_weight_per_unsuccessful_year = described(
        ma.fields.Integer, "extra lottery tickets per earlier campaign of the same kind without a place (0–10)",
        load_default=0)
    keep_siblings_together = described(ma.fields.Boolean, "siblings applying together are placed together or "
                                       "waitlisted together", load_default=False)
    acceptance_delay_hours = described(ma.fields.Integer, "hours a family has to accept an offered place (1–720)",
                                       load_default=72)
    acceptance_margin_hours = described(ma.fields.Integer, "the deadline to accept falls at least this many hours "
                                        "before the activity starts, midnight Paris time of its first day (0–720)",
                                        load_default=24)
    requires_validated_facts = described(
        ma.fields.Boolean, "priority criteria and reserved shares on the quotient tranche, single parent or "
        "disability allowance count only facts a city agent validated from a document; a declared-only fact is not "
        "met (the family's explanation says why). Only with such a criterion", load_default=False)

    @ma.post_load
    def to_policy(self, data: dict[str, Any], **kwargs: Any) -> AllocationPolicy:
        return policy_from_json(data)


# --- offers -------------------------------------------------------------------------------------

class OfferFieldsSchema(ma.Schema):
    title = described(Text, "title shown to parents, e.g. « Escalade — initiation »", required=True)
    site = described(Text, "where it takes place", required=True)
    arrondissement = described(ma.fields.Integer, "Paris arrondissement of the site (1–20)", required=True)
    starts_on = described(CalendarDate, "first day (for a lottery, after the window closes)", required=True)
    ends_on = described(CalendarDate, "last day", required=True)
    min_age = described(ma.fields.Integer, "youngest age admitted, in full years at the campaign's reference date",
                        required=True)
    max_age = described(ma.fields.Integer, "oldest age admitted, in full years at the campaign's reference date",
                        required=True)
    capacity = described(ma.fields.Integer, "places; never below the places already given", required=True,
                         validate=STORABLE_INT)
    waitlist_limit = described(ma.fields.Integer, "longest waitlist kept; null for no limit", allow_none=True,
                               load_default=None, validate=STORABLE_INT)
    tariffs_cents = bounded_list(ma.fields.Integer(validate=STORABLE_INT), TARIFF_TRANCHES, required=True, metadata={
        "description": "ten prices in euro cents, family-quotient tranches 1 to 10 (10: no quotient on file); "
                       "never lower than the tranche before"})

    @ma.post_load
    def tariffs_as_tuple(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "tariffs_cents" in data:
            data["tariffs_cents"] = tuple(data["tariffs_cents"])
        return data


class OfferPatchSchema(TopLevelPartial, OfferFieldsSchema):
    """The offer fields to change."""


class PublicOfferSchema(OfferFieldsSchema):
    id = described(ma.fields.String, "offer id (UUID)", dump_only=True)
    places_remaining = described(ma.fields.Integer, "capacity less the places already given", dump_only=True)


class OfferSchema(PublicOfferSchema):
    places_given = described(ma.fields.Integer, "places already offered or accepted (fed by allocation)",
                             dump_only=True)


# --- campaigns ----------------------------------------------------------------------------------

class CampaignFieldsSchema(ma.Schema):
    title = described(Text, "title", required=True)
    kind = described(Text, "sport_vacances, centre_loisirs_mercredi, conservatoire_examen, or another "
                     "lower-case slug a city adds", required=True)
    description = described(Text, "what families read about the campaign", load_default="", multiline=True,
                            max_length=MAX_DESCRIPTION_LENGTH)
    opens_at = described(ParisDateTime, "window opening, Europe/Paris: naive text is Paris wall-clock time, or give "
                         "an offset; fixed once the window has opened", required=True)
    closes_at = described(ParisDateTime, "planned window closing, Europe/Paris (naive = Paris time): the last minute "
                          "applications are accepted in, whole (23:59 accepts until 23:59:59)", required=True)
    reference_date = described(CalendarDate, "date on which children's ages are counted", required=True)
    max_choices = described(ma.fields.Integer, "most ranked choices a child may make (1–10)", required=True)
    policy = ma.fields.Nested(PolicySchema, required=True, metadata={"description": "how places are given"})
    waitlist_closes_at = described(ParisDateTime, "no waitlist promotion after this instant, Europe/Paris (naive = "
                                   "Paris time); null: until each offer's acceptance cut-off", allow_none=True,
                                   load_default=None)
    free_withdrawal_until = described(ParisDateTime, "a confirmed place given up until then is credited in full; "
                                      "null: until the activity starts", allow_none=True, load_default=None)
    late_withdrawal_fee_cents = described(ma.fields.Integer, "after free_withdrawal_until, the credit is the price "
                                          "less this fee, in euro cents; null: no credit. Fixed once open",
                                          allow_none=True, load_default=None, validate=STORABLE_INT)
    publication_needs_second_manager = described(ma.fields.Boolean, "four eyes: a draw's results are published "
                                                 "only when a second manager approves the publication another "
                                                 "asked for (default true). Fixed once open", load_default=True)
    waiting_room = described(ma.fields.Boolean, "families wait in a waiting room and are admitted at a pace "
                             "(docs/registrations.md#the-waiting-room); null: on for first-come campaigns only",
                             allow_none=True, load_default=None)
    waiting_room_opens_before_minutes = described(ma.fields.Integer, "the room's pre-queue opens this many minutes "
                                                  "before the opening (0–1440)", load_default=30,
                                                  validate=STORABLE_INT)
    waiting_room_admissions_per_minute = described(ma.fields.Integer, "the most families the room admits per "
                                                   "minute (1–60000); the pace adapts below it", load_default=1200,
                                                   validate=STORABLE_INT)


class CampaignPatchSchema(TopLevelPartial, CampaignFieldsSchema):
    """The campaign fields to change."""


class CampaignCreateSchema(CampaignFieldsSchema):
    offers = bounded_list(ma.fields.Nested(OfferFieldsSchema), MAX_OFFERS, load_default=list,
                            metadata={"description": "offers to create with the campaign (more can be added later)"})


class CampaignSchema(CampaignFieldsSchema):
    id = described(ma.fields.String, "campaign id (UUID)", dump_only=True)
    version = described(ma.fields.Integer, "increases with every change; the ETag", dump_only=True)
    status = described(ma.fields.String, "draft, scheduled, open, closed, allocated or archived, at the time of the "
                       "response", dump_only=True)
    published_at = described(ParisDateTime, "when it was published (null for a draft)", dump_only=True,
                             allow_none=True)
    closed_early_at = described(ParisDateTime, "when a manager closed the window early (null if nobody did)",
                                dump_only=True, allow_none=True)
    allocated_at = described(ParisDateTime, "when places were allocated (null until then)", dump_only=True,
                             allow_none=True)
    archived_at = described(ParisDateTime, "when it was archived (null until then)", dump_only=True,
                            allow_none=True)
    cloned_from_id = described(ma.fields.String, "the campaign this one was cloned from (null: not a copy)",
                               dump_only=True, allow_none=True)
    window_closes_at = described(ParisDateTime, "the instant applications stop (exclusive): the end of the minute "
                                 "closes_at names, or the early close", dump_only=True)
    offers = ma.fields.List(ma.fields.Nested(OfferSchema), dump_only=True, metadata={"description": "its offers"})


class CampaignListQuerySchema(ma.Schema):
    kind = described(Text, "only campaigns of this kind")
    status = described(ma.fields.String, "only campaigns with this status now",
                       validate=ma.validate.OneOf(list(CampaignStatus)))


class ExtendCloseSchema(ma.Schema):
    closes_at = described(ParisDateTime, "the new, later closing instant, Europe/Paris (naive = Paris time)",
                          required=True)


class CloneSchema(ma.Schema):
    title = described(Text, "title of the copy (default: the source's)")
    new_opens_at = described(ParisDateTime, "when the copy opens; its close, offer dates and reference date move "
                             "by the same Paris wall-clock offset")
    shift_days = described(ma.fields.Integer, "or: move everything by this many days (364 keeps weekdays), "
                           "at most ten years either way", validate=ma.validate.Range(-3660, 3660))
    reference_date = described(CalendarDate, "age reference date of the copy, when it is fixed by the calendar")

    @ma.validates_schema
    def one_way_to_move(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("new_opens_at" in data) == ("shift_days" in data):
            raise ma.ValidationError("Send either new_opens_at or shift_days.", field_name="new_opens_at")


# --- public listing -----------------------------------------------------------------------------

class PublicCampaignSchema(ma.Schema):
    id = described(ma.fields.String, "campaign id (UUID)")
    title = described(ma.fields.String, "title")
    kind = described(ma.fields.String, "kind of campaign, e.g. sport_vacances")
    description = described(ma.fields.String, "what families read about the campaign")
    status = described(ma.fields.String, "scheduled (applications not yet open) or open")
    opens_at = described(ParisDateTime, "applications open, Europe/Paris time with offset")
    closes_at = described(ParisDateTime, "applications close at this instant (exclusive), Europe/Paris time with "
                          "offset: 00:00 after a window announced until 23:59")
    reference_date = described(ma.fields.Date, "date on which children's ages are counted")
    max_choices = described(ma.fields.Integer, "most ranked choices a child may make")
    allocation_mode = described(ma.fields.String, "fcfs (arrival order), lottery or priority_lottery")
    keep_siblings_together = described(ma.fields.Boolean, "siblings applying together (keep_with_applications) are "
                                       "placed together or waitlisted together")
    free_withdrawal_until = described(ParisDateTime, "a confirmed place given up until then is credited in full; "
                                      "null: until the activity starts", allow_none=True)
    late_withdrawal_fee_cents = described(ma.fields.Integer, "after free_withdrawal_until, the credit is the price "
                                          "less this fee, in euro cents; null: no credit", allow_none=True)
    offers = ma.fields.List(ma.fields.Nested(PublicOfferSchema), metadata={"description": "offers matching the filters"})


class PublicQuerySchema(ma.Schema):
    kind = described(Text, "only campaigns of this kind", max_length=MAX_QUERY_LENGTH)
    arrondissement = described(ma.fields.Integer, "only offers in this arrondissement",
                               validate=ma.validate.Range(1, 20))
    age = described(ma.fields.Integer, "only offers taking a child of this age (full years at the campaign's "
                    "reference date)", validate=ma.validate.Range(0, 25))
    birth_date = described(ma.fields.Date, "only offers taking a child born on this date (exact at the campaign's "
                           "reference date)")


# --- domain values as the schemas read them ------------------------------------------------------

def offer_view(offer: Offer, places_given: int) -> dict[str, Any]:
    return {**asdict(offer), "places_given": places_given, "places_remaining": max(0, offer.capacity - places_given)}


def campaign_view(stored: StoredCampaign, now: datetime) -> dict[str, Any]:
    campaign = stored.campaign
    return {
        **asdict(campaign), "version": stored.version, "status": status_at(campaign, now),
        "window_closes_at": campaign.effective_closes_at,
        "offers": [offer_view(offer, stored.places_given_for(offer.id)) for offer in campaign.offers],
    }


def public_campaign_view(stored: StoredCampaign, now: datetime) -> dict[str, Any]:
    campaign = stored.campaign
    return {
        "id": campaign.id, "title": campaign.title, "kind": campaign.kind, "description": campaign.description,
        "status": status_at(campaign, now), "opens_at": campaign.opens_at, "closes_at": campaign.effective_closes_at,
        "reference_date": campaign.reference_date, "max_choices": campaign.max_choices,
        "allocation_mode": campaign.policy.mode,
        "keep_siblings_together": campaign.policy.keep_siblings_together,
        "free_withdrawal_until": campaign.free_withdrawal_until,
        "late_withdrawal_fee_cents": campaign.late_withdrawal_fee_cents,
        "offers": [offer_view(offer, stored.places_given_for(offer.id)) for offer in campaign.offers],
    }


def public_catalogue_document(visible: Sequence[StoredCampaign], now: datetime) -> list[dict[str, Any]]:
    """The public listing's JSON, built once per cache lifetime and answered as is."""
    return PublicCampaignSchema(many=True).dump([public_campaign_view(stored, now) for stored in visible])
