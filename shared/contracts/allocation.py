"""Events of decisions and places: allocation's decisions, parents' answers, the billing feed."""
import marshmallow as ma

from shared.contracts.applications import ActedForFamilySchema
from shared.contracts.fields import described
from shared.events.registry import EventContract, register
from shared.topics import ALLOCATION_EVENTS, APPLICATION_EVENTS, BILLING_FEED

OUTCOMES = ("allocated", "waitlisted", "rejected")


class WaitlistEntrySchema(ma.Schema):
    offer_id = described(ma.fields.UUID, "offer whose waitlist this is", required=True)
    position = described(ma.fields.Integer, "position on it; 1 is next in line", required=True)


class AllocationDecidedSchema(ma.Schema):
    application_id = described(ma.fields.UUID, "application decided", required=True)
    campaign_id = described(ma.fields.UUID, "campaign", required=True)
    family_account = described(ma.fields.String, "family account", required=True)
    child_id = described(ma.fields.UUID, "child", required=True)
    outcome = described(ma.fields.String, "allocated, waitlisted or rejected", required=True,
                        validate=ma.validate.OneOf(OUTCOMES))
    offer_id = described(ma.fields.UUID, "for allocated: the offer whose place is offered", allow_none=True,
                         load_default=None)
    offer_expires_at = described(ma.fields.AwareDateTime, "for allocated: the parent must accept before this "
                                 "instant (UTC)", allow_none=True, load_default=None)
    waitlist = ma.fields.List(ma.fields.Nested(WaitlistEntrySchema), load_default=list, metadata={
        "description": "waitlist positions at offers ranked above the place obtained (or all, when none)"})
    reasons = ma.fields.List(ma.fields.String(), load_default=list, metadata={
        "description": "stable reason codes, e.g. too_old, waitlist_full, siblings_not_kept_together"})
    allocation_run_id = described(ma.fields.UUID, "the allocation run (draw) that decided it", required=True)
    explanation_url = described(ma.fields.String, "where the parent reads why", required=True)


class PlaceOfferedSchema(ma.Schema):
    application_id = described(ma.fields.UUID, "application now offered a place", required=True)
    campaign_id = described(ma.fields.UUID, "campaign", required=True)
    family_account = described(ma.fields.String, "family account", required=True)
    child_id = described(ma.fields.UUID, "child", required=True)
    offer_id = described(ma.fields.UUID, "offer", required=True)
    offer_expires_at = described(ma.fields.AwareDateTime, "the parent must accept before this instant (UTC)",
                                 required=True)
    freed_by_application_id = described(ma.fields.UUID, "the application whose place was freed", allow_none=True,
                                        load_default=None)


class OfferExpiredSchema(ma.Schema):
    application_id = described(ma.fields.UUID, "application whose offered place expired", required=True)
    campaign_id = described(ma.fields.UUID, "campaign", required=True)
    family_account = described(ma.fields.String, "family account", required=True)
    offer_id = described(ma.fields.UUID, "offer", required=True)
    expired_at = described(ma.fields.AwareDateTime, "when it expired (UTC)", required=True)


class PlacesGivenSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign", required=True)
    offer_id = described(ma.fields.UUID, "offer", required=True)
    places_given = described(ma.fields.Integer, "places of the offer now offered or accepted", required=True,
                             validate=ma.validate.Range(min=0))
    revision = described(ma.fields.Integer, "increases with every count announced for this offer: a consumer "
                         "keeps the count of the highest revision it has seen", required=True,
                         validate=ma.validate.Range(min=1))
    counted_at = described(ma.fields.AwareDateTime, "when allocation counted them (UTC)", required=True)


class OfferAnswerSchema(ActedForFamilySchema):
    application_id = described(ma.fields.UUID, "application", required=True)
    campaign_id = described(ma.fields.UUID, "campaign", required=True)
    family_account = described(ma.fields.String, "family account", required=True)
    offer_id = described(ma.fields.UUID, "offer answered", required=True)
    at = described(ma.fields.AwareDateTime, "when the parent (or an agent for the family) answered (UTC), before the "
                   "deadline", required=True)


class RegistrationConfirmedSchema(ma.Schema):
    line_id = described(ma.fields.String, "stable invoice line id: the same registration always has the same id",
                        required=True)
    application_id = described(ma.fields.UUID, "application", required=True)
    family_account = described(ma.fields.String, "family account billed", required=True)
    child_id = described(ma.fields.UUID, "child", required=True)
    child_name = described(ma.fields.String, "child's first and last name, as printed on the invoice", required=True)
    campaign_id = described(ma.fields.UUID, "campaign", required=True)
    campaign_title = described(ma.fields.String, "campaign title", required=True)
    offer_id = described(ma.fields.UUID, "offer", required=True)
    offer_title = described(ma.fields.String, "offer title", required=True)
    period_start = described(ma.fields.Date, "first day of the activity", required=True)
    period_end = described(ma.fields.Date, "last day of the activity", required=True)
    quotient_tranche = described(ma.fields.Integer, "family-quotient tranche applied (10 when none on file)",
                                 required=True)
    unit_price_cents = described(ma.fields.Integer, "price in euro cents from the offer's tariff grid",
                                 required=True)
    quantity = described(ma.fields.Integer, "units billed", required=True)
    currency = described(ma.fields.String, "ISO 4217 currency", required=True)
    confirmed_at = described(ma.fields.AwareDateTime, "when the place was confirmed (UTC)", required=True)


class FamilyPseudonymisedSchema(ma.Schema):
    family_account = described(ma.fields.String, "the family account its lines were billed to", required=True)
    pseudonym = described(ma.fields.String, "what replaces it (and the child's name) on every line kept",
                          required=True)
    erased_at = described(ma.fields.AwareDateTime, "when the family's data was erased (UTC)", required=True)


class RegistrationCancelledSchema(RegistrationConfirmedSchema):
    reverses_line_id = described(ma.fields.String, "the line of `registration.confirmed` this credit reverses",
                                 required=True)
    cancelled_at = described(ma.fields.AwareDateTime, "when the confirmed place was given up (UTC)", required=True)
    reason = described(ma.fields.String, "why: withdrawn by the parent, cancelled by the city, …", required=True)
    reversed_unit_price_cents = described(ma.fields.Integer, "the unit price of the line reversed; `unit_price_cents` "
                                          "is what is credited (less when the campaign's cancellation rule keeps a "
                                          "fee, 0 when it credits nothing). Absent: the whole price is credited")
    withdrawal_fee_cents = described(ma.fields.Integer, "what the family still pays per unit: "
                                     "reversed_unit_price_cents − unit_price_cents")
    cancellation_rule = described(ma.fields.String, "free (full credit), late_fee, late_no_credit, "
                                  "after_the_activity (no credit), or agent_exception (a city agent waived the "
                                  "late fee: full credit)")


class RegistrationRepricedSchema(RegistrationConfirmedSchema):
    """The new line (`line_id`, `quotient_tranche`, `unit_price_cents`, `quantity` 1) and the line it replaces."""
    reverses_line_id = described(ma.fields.String, "the line this one replaces: credit it in full (quantity -1 at "
                                 "`reversed_unit_price_cents`)", required=True)
    reversal_line_id = described(ma.fields.String, "the stable id of that credit line (deduplicate on it as on "
                                 "`line_id`)", required=True)
    reversed_quotient_tranche = described(ma.fields.Integer, "the tranche of the line replaced", required=True)
    reversed_unit_price_cents = described(ma.fields.Integer, "the unit price of the line replaced", required=True)
    effective_from = described(ma.fields.Date, "first day the validated tranche applies: lines of months from this "
                               "date's month are repriced, earlier months' lines never", required=True)
    repriced_at = described(ma.fields.AwareDateTime, "when allocation repriced the line (UTC)", required=True)
    reason = described(ma.fields.String, "why: quotient tranche validated by a city agent", required=True)


_IDS = {"application_id": "0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b", "campaign_id": "5b0f1c3e-8d1a-4c44-9a5e-2a9b4e0c7d11",
        "family_account": "family-7d2c"}
_OFFER = "c3d9a8e2-1f7b-4e55-b0a4-6f1e2d3c4b5a"
_CHILD = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

register(EventContract(
    "allocation.decided", 1, AllocationDecidedSchema, ALLOCATION_EVENTS,
    "An application was decided: a place offered (to accept before `offer_expires_at`), waitlisted, or rejected "
    "with reasons.",
    {**_IDS, "child_id": _CHILD, "outcome": "allocated", "offer_id": _OFFER,
     "offer_expires_at": "2026-03-03T10:00:00+00:00", "waitlist": [], "reasons": [],
     "allocation_run_id": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2918",
     "explanation_url": "/applications/0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b/explanation"}))
register(EventContract(
    "waitlist.promoted", 1, PlaceOfferedSchema, ALLOCATION_EVENTS,
    "A place was freed (declined, expired, withdrawn) and offered to the next child on the offer's waitlist.",
    {**_IDS, "child_id": _CHILD, "offer_id": _OFFER, "offer_expires_at": "2026-03-06T10:00:00+00:00",
     "freed_by_application_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"}))
register(EventContract(
    "offer.expired", 1, OfferExpiredSchema, ALLOCATION_EVENTS,
    "The parent did not accept the offered place in time; it goes to the waitlist.",
    {**_IDS, "offer_id": _OFFER, "expired_at": "2026-03-03T10:00:00+00:00"}))
register(EventContract(
    "offer.places_given", 1, PlacesGivenSchema, ALLOCATION_EVENTS,
    "How many places of an offer are given (offered or accepted), announced a few seconds after it changes "
    "(a draw, a first-come decision, a decline, an expiry, a withdrawal, a promotion). Campaigns shows the places "
    "remaining from it and refuses a capacity below it.",
    {"campaign_id": _IDS["campaign_id"], "offer_id": _OFFER, "places_given": 14, "revision": 3,
     "counted_at": "2026-03-01T18:42:05+00:00"}))
register(EventContract(
    "offer.accepted", 1, OfferAnswerSchema, APPLICATION_EVENTS,
    "The parent accepted the offered place before its deadline (emitted by registrations).",
    {**_IDS, "offer_id": _OFFER, "at": "2026-03-01T18:42:00+00:00"}))
register(EventContract(
    "offer.declined", 1, OfferAnswerSchema, APPLICATION_EVENTS,
    "The parent declined the offered place (emitted by registrations); it goes to the waitlist.",
    {**_IDS, "offer_id": _OFFER, "at": "2026-03-01T18:42:00+00:00"}))
register(EventContract(
    "registration.confirmed", 1, RegistrationConfirmedSchema, BILLING_FEED,
    "A place is confirmed: one invoice line for billing, priced by the family-quotient tranche. Keyed by family "
    "account so one family's lines arrive in order.",
    {"line_id": "reg-0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b", "application_id": _IDS["application_id"],
     "family_account": "family-7d2c", "child_id": _CHILD, "child_name": "Inès Martin",
     "campaign_id": _IDS["campaign_id"], "campaign_title": "Paris Sport Vacances — hiver 2026", "offer_id": _OFFER,
     "offer_title": "Escalade — initiation", "period_start": "2026-03-02", "period_end": "2026-03-06",
     "quotient_tranche": 3, "unit_price_cents": 900, "quantity": 1, "currency": "EUR",
     "confirmed_at": "2026-03-01T18:42:03+00:00"}))
register(EventContract(
    "registration.cancelled", 1, RegistrationCancelledSchema, BILLING_FEED,
    "A confirmed place was given up (withdrawal after confirmation): a credit line reversing the confirmed one, "
    "with `quantity` -1 and its own stable `line_id`; `unit_price_cents` is what the campaign's cancellation rule "
    "credits (the whole price, less a late fee, or 0).",
    {"line_id": "rev-0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b", "reverses_line_id": "reg-0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b",
     "application_id": _IDS["application_id"], "family_account": "family-7d2c", "child_id": _CHILD,
     "child_name": "Inès Martin", "campaign_id": _IDS["campaign_id"], "campaign_title": "Paris Sport Vacances — hiver 2026",
     "offer_id": _OFFER, "offer_title": "Escalade — initiation", "period_start": "2026-03-02",
     "period_end": "2026-03-06", "quotient_tranche": 3, "unit_price_cents": 900, "quantity": -1, "currency": "EUR",
     "confirmed_at": "2026-03-01T18:42:03+00:00", "cancelled_at": "2026-03-01T19:30:00+00:00",
     "reason": "withdrawn by the parent", "reversed_unit_price_cents": 900, "withdrawal_fee_cents": 0,
     "cancellation_rule": "free"}))
register(EventContract(
    "family.pseudonymised", 1, FamilyPseudonymisedSchema, BILLING_FEED,
    "The family's data was erased (its right to erasure): billing keeps its lines for accounting, amounts and "
    "periods untouched, but replaces `family_account` and `child_name` on every line of that account by "
    "`pseudonym`. Keyed by the family account, so it comes after every line of the family.",
    {"family_account": "family-7d2c", "pseudonym": "erased-4f1c2a9b7d3e8c01", "erased_at": "2026-09-01T10:00:00+00:00"}))
register(EventContract(
    "registration.repriced", 1, RegistrationRepricedSchema, BILLING_FEED,
    "A city agent validated the family's quotient tranche (issue 16) and it changes the price of a confirmed "
    "registration whose period starts in a month from the validation's effective month: the line "
    "`reverses_line_id` is credited in full (a credit line `reversal_line_id`, quantity -1, at "
    "`reversed_unit_price_cents` and `reversed_quotient_tranche`) and the new line `line_id` (quantity 1) bills the "
    "registration at the validated tranche's price. Same period, so both land in the invoice of the replaced line; "
    "lines of earlier months are never repriced. Both ids are stable (`reg-<application id>-<n>` for the n-th line "
    "of a registration, its credit `rev-<application id>-<n>`; line 1 is `reg-`/`rev-<application id>`): "
    "a redelivered event is one repricing.",
    {"line_id": "reg-0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b-2", "reverses_line_id": "reg-0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b",
     "reversal_line_id": "rev-0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b", "application_id": _IDS["application_id"],
     "family_account": "family-7d2c", "child_id": _CHILD, "child_name": "Inès Martin",
     "campaign_id": _IDS["campaign_id"], "campaign_title": "Paris Sport Vacances — hiver 2026", "offer_id": _OFFER,
     "offer_title": "Escalade — initiation", "period_start": "2026-03-02", "period_end": "2026-03-06",
     "quotient_tranche": 2, "unit_price_cents": 600, "quantity": 1, "currency": "EUR",
     "confirmed_at": "2026-03-01T18:42:03+00:00", "reversed_quotient_tranche": 3, "reversed_unit_price_cents": 900,
     "effective_from": "2026-03-01", "repriced_at": "2026-03-20T10:00:05+00:00",
     "reason": "quotient tranche validated by a city agent"}))
