"""Request and response bodies of the registrations API: applications, intake counters, households.

Household bodies carry types and formats only: the rules (ranges, lengths, dates, duplicates) live in
the domain, which names the field it refuses."""
import marshmallow as ma

from services.registrations.domain.documents import MAX_FILENAME_LENGTH
from services.registrations.domain.facts import FactStatus
from services.registrations.domain.household import (
    MAX_CHILD_AGE,
    MAX_CHILDREN,
    MAX_TEXT_LENGTH,
    NO_QUOTIENT_TRANCHE,
    Language,
    PostalAddress,
)
from shared.contracts.applications import APPLICATION_STATUSES, VALIDATED_FACTS, HoldSchema
from shared.contracts.fields import described
from shared.schema_fields import Text, bounded_list

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
MAX_CHOICES = 10  # no campaign allows more (campaigns' max_choices is 1–10)
# A child is kept with its siblings: the other children of the household (intake checks the household's own size).
MAX_SIBLINGS = MAX_CHILDREN - 1


class SubmissionSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign to apply to", required=True)
    child_id = described(ma.fields.UUID, "child of your household", required=True)
    choices = bounded_list(ma.fields.UUID(), MAX_CHOICES, min_items=1, required=True,
                           metadata={"description": "offer ids, your first choice first"})
    keep_with_applications = bounded_list(ma.fields.UUID(), MAX_SIBLINGS, load_default=list, metadata={
        "description": "applications of this child's siblings in the same campaign to be placed with, if the "
                       "campaign keeps siblings together"})
    sworn_statement = described(ma.fields.Boolean, "you certify that the information given is accurate",
                                required=True)


class AcknowledgementSchema(ma.Schema):
    application_id = described(ma.fields.UUID, "id of your application")
    campaign_id = described(ma.fields.UUID, "campaign applied to")
    status = described(ma.fields.String, "always `received`: the application is kept and will be decided")
    submitted_at = described(ma.fields.AwareDateTime, "when it was received (server clock, UTC)")
    status_url = described(ma.fields.String, "where to follow the application")
    hold = ma.fields.Nested(HoldSchema, metadata={"description": "first-come campaigns: place held or waitlist "
                                                                 "position; otherwise decided after the close"})
    message = described(ma.fields.String, "what the parent should read, in French")


class TransitionSchema(ma.Schema):
    from_status = described(ma.fields.String, "previous status (null at intake)", allow_none=True)
    to_status = described(ma.fields.String, "new status")
    reason = described(ma.fields.String, "why, when there is a reason (an agent's own words when an agent acted)",
                       allow_none=True)
    at = described(ma.fields.AwareDateTime, "when (UTC)")
    actor_role = described(ma.fields.String, "who made the change: `parent`, `agent` (a city agent for the family); "
                           "null for Guichet itself (intake, allocation, expiry)", allow_none=True)
    acted_by_agent = described(ma.fields.Boolean, "a city agent made this change on the family's behalf: show "
                               "« fait par un agent, le …, motif : … » with `at` and `reason`")


class ApplicationSchema(ma.Schema):
    application_id = described(ma.fields.UUID, "application id")
    campaign_id = described(ma.fields.UUID, "campaign")
    child_id = described(ma.fields.UUID, "child")
    choices = ma.fields.List(ma.fields.UUID(), metadata={"description": "ranked offer ids"})
    keep_with_applications = ma.fields.List(ma.fields.UUID(), metadata={"description": "sibling applications"})
    status = described(ma.fields.String, "received, allocated, waitlisted, rejected, confirmed, declined, expired, "
                       "withdrawn; `pending` while the intake is still writing it to the ledger",
                       validate=ma.validate.OneOf((*APPLICATION_STATUSES, "pending")))
    reason = described(ma.fields.String, "why, for a rejection", allow_none=True)
    applied_by_agent = described(ma.fields.Boolean, "a city agent applied for the family (its history's first "
                                 "step says when and why); in lists of applications")
    hold = ma.fields.Nested(HoldSchema, metadata={"description": "what intake told the parent"})
    submitted_at = described(ma.fields.AwareDateTime, "when it was received (UTC)")
    arrival_position = described(ma.fields.Integer, "arrival order in the campaign: the number intake gave the "
                                 "application (increasing, with holes where a submission never reached the "
                                 "broker); null until the ledger holds it", allow_none=True)
    placed_offer_id = described(ma.fields.UUID, "the offer whose place is offered or confirmed", allow_none=True)
    offer_expires_at = described(ma.fields.AwareDateTime, "accept the offered place before this instant (UTC)",
                                 allow_none=True)
    decision = ma.fields.Dict(allow_none=True, metadata={
        "description": "the allocation decision as published: outcome, waitlist positions, reasons, and "
                       "`explanation_url` where the parent reads why"})
    history = ma.fields.List(ma.fields.Nested(TransitionSchema), metadata={"description": "status changes"})


class MinuteCountSchema(ma.Schema):
    minute = ma.fields.AwareDateTime(metadata={"description": "start of the minute (UTC)"})
    received = ma.fields.Integer(metadata={"description": "applications submitted in that minute"})


class OfferCountSchema(ma.Schema):
    offer_id = ma.fields.UUID(metadata={"description": "offer"})
    first_choice = ma.fields.Integer(metadata={"description": "applications ranking it first"})
    ranked = ma.fields.Integer(metadata={"description": "applications ranking it at any rank"})


class IntakeCountersSchema(ma.Schema):
    campaign_id = ma.fields.UUID(metadata={"description": "campaign"})
    received = ma.fields.Integer(metadata={"description": "applications in the ledger, whatever their status"})
    per_minute = ma.fields.List(ma.fields.Nested(MinuteCountSchema), metadata={"description": "oldest first"})
    per_offer = ma.fields.List(ma.fields.Nested(OfferCountSchema), metadata={"description": "offers ranked"})


class PostalAddressSchema(ma.Schema):
    line1 = described(Text, f"number and street (up to {MAX_TEXT_LENGTH} characters)", required=True)
    line2 = described(Text, "building, staircase, floor…; null for none", allow_none=True,
                      load_default=None)
    postal_code = described(Text, "five digits, e.g. 75011", required=True)
    city = described(Text, "city, e.g. Paris", required=True)

    @ma.post_load
    def make(self, data, **kwargs) -> PostalAddress:
        return PostalAddress(**data)


class HouseholdFactsSchema(ma.Schema):
    """The household facts, all sent on each PUT (null clears an optional fact)."""
    single_parent = described(ma.fields.Boolean, "single-parent household (a priority criterion)", required=True)
    quotient_tranche = described(
        ma.fields.Integer, f"family-quotient tranche from 1 to 10 as the CAF or the city computed it; null when "
        f"none is on file (then tranche {NO_QUOTIENT_TRANCHE} applies)", required=True, allow_none=True)
    quotient_justified_on = described(
        ma.fields.Date, "the day the tranche was last justified (not in the future); required with a tranche",
        required=True, allow_none=True)
    arrondissement = described(ma.fields.Integer, "Paris arrondissement of residence (1–20); null outside Paris",
                               required=True, allow_none=True)
    postal_mail = described(ma.fields.Boolean, "the family wants paper letters besides the in-app inbox",
                            required=True)
    postal_address = ma.fields.Nested(PostalAddressSchema, allow_none=True, load_default=None, metadata={
        "description": "where paper letters go; required when postal_mail is true (null or left out: none)"})
    email = described(ma.fields.Email, "address for notifications; null for none", required=True, allow_none=True,
                      validate=ma.validate.Length(max=EMAIL_MAX_LENGTH))
    language = described(ma.fields.Enum, "language of notifications", enum=Language, by_value=True,
                         required=True)


class ChildChangesSchema(ma.Schema):
    """The fields of a child that a PATCH changes; those left out stay as they are."""
    first_name = described(Text, f"first name as on the civil record (1–{MAX_TEXT_LENGTH} characters, "
                           "trimmed)")
    last_name = described(Text, f"last name as on the civil record (1–{MAX_TEXT_LENGTH} characters, "
                          "trimmed)")
    birth_date = described(ma.fields.Date, f"birth date, not in the future, at most {MAX_CHILD_AGE} years ago")
    school = described(Text, f"school attended (up to {MAX_TEXT_LENGTH} characters); null for none",
                       allow_none=True)
    school_arrondissement = described(ma.fields.Integer, "Paris arrondissement of the school (1–20); null outside "
                                      "Paris or without a school", allow_none=True)
    disability_allowance = described(ma.fields.Boolean, "the child receives a disability allowance (AEEH), a "
                                     "priority criterion")


class NewChildSchema(ChildChangesSchema):
    """A child to add. Names and birth date are required, the rest defaults to none/false."""
    REQUIRED = ("first_name", "last_name", "birth_date")

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        # The same fields as a PATCH, with the essentials required: each field is described once.
        field_obj.required = field_name in self.REQUIRED


class ChildSchema(ChildChangesSchema):
    """A child of the household."""
    child_id = described(ma.fields.UUID, "id of the child, given when it was added; applications name it",
                         dump_only=True)


class FactStateSchema(ma.Schema):
    """One fact an agent validates from a document (issue 16), as it stands."""
    fact = described(ma.fields.String, "quotient_tranche, single_parent, or disability_allowance (a child's)")
    child_id = described(ma.fields.UUID, "the child, for disability_allowance; null otherwise", allow_none=True)
    value = described(ma.fields.Raw, "the household's value: the tranche (null for none), true or false")
    status = described(ma.fields.String, "declared (as the family said it), or validated (by a city agent from a "
                       "document); changing a validated value makes it declared again",
                       validate=ma.validate.OneOf([str(status) for status in FactStatus]))
    effective_from = described(ma.fields.Date, "validated: the first day the value applies (pricing: months from "
                               "this date's month)", allow_none=True)
    validated_at = described(ma.fields.AwareDateTime, "validated: when (UTC)", allow_none=True)
    document_id = described(ma.fields.UUID, "validated: the supporting document", allow_none=True)


class HouseholdSchema(HouseholdFactsSchema):
    """A household: its facts, its present children and its version."""
    family_account = described(ma.fields.String, "the family account (the parent's login subject)", dump_only=True)
    effective_tranche = described(ma.fields.Integer, f"the tranche pricing and criteria use: the quotient tranche, "
                                  f"or {NO_QUOTIENT_TRANCHE} without one", dump_only=True)
    children = ma.fields.List(ma.fields.Nested(ChildSchema), dump_only=True, metadata={
        "description": f"the children (at most {MAX_CHILDREN}), first added first; removed ones are not listed"})
    version = described(ma.fields.Integer, "counts the changes; the ETag follows it", dump_only=True)
    facts = ma.fields.List(ma.fields.Nested(FactStateSchema), dump_only=True, metadata={
        "description": "the facts priority and price depend on: the quotient tranche, single-parent status, then each "
                       "child's disability allowance, each declared or validated by a city agent"})


# --- supporting documents (web/parents/documents.py, web/agent_documents.py) ----------------------------------

class DocumentFieldsSchema(ma.Schema):
    """The query of an upload: the body is the file itself (PDF, JPEG or PNG, at most 5 MiB)."""
    fact = described(ma.fields.String, "the fact the document supports", required=True,
                     validate=ma.validate.OneOf(VALIDATED_FACTS))
    child_id = described(ma.fields.UUID, "the child, for disability_allowance", load_default=None)
    filename = described(ma.fields.String, f"the file's name, shown back (at most {MAX_FILENAME_LENGTH} characters)",
                         load_default=None, validate=ma.validate.Length(max=MAX_FILENAME_LENGTH))


class DocumentSchema(ma.Schema):
    document_id = described(ma.fields.UUID, "id of the document (an agent's validation names it)")
    fact = described(ma.fields.String, "the fact it was sent for")
    child_id = described(ma.fields.UUID, "the child, for disability_allowance", allow_none=True)
    media_type = described(ma.fields.String, "application/pdf, image/jpeg or image/png: read from the content")
    size_bytes = described(ma.fields.Integer, "size in bytes")
    filename = described(ma.fields.String, "the name it was sent with", allow_none=True)
    uploaded_at = described(ma.fields.AwareDateTime, "when (UTC)")
    uploaded_by_role = described(ma.fields.String, "parent, or agent (a city agent for the family)")


# --- the waiting room (web/parents/waiting_room.py, web/public.py, web/managers.py) ---------------------------

ROOM_PHASES = ["not_yet", "pre_queue", "open", "closed"]


class PlaceSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "the campaign")
    state = described(ma.fields.String, "not_joined, pre_queue (the order is drawn at the opening), waiting, "
                      "admitted (apply with the admission token), expired (admission lapsed: join again)",
                      validate=ma.validate.OneOf(["not_joined", "pre_queue", "waiting", "admitted", "expired"]))
    phase = described(ma.fields.String, "the room's phase", validate=ma.validate.OneOf(ROOM_PHASES))
    opens_at = described(ma.fields.AwareDateTime, "the campaign's opening")
    position = described(ma.fields.Integer, "1 = next admitted; null before the opening's draw", allow_none=True)
    ahead = described(ma.fields.Integer, "families admitted before you", allow_none=True)
    waiting = described(ma.fields.Integer, "families waiting in the room")
    pace_per_minute = described(ma.fields.Float, "families admitted per minute now (it adapts to intake's load)")
    estimated_wait_seconds = described(ma.fields.Integer, "at the current pace; null when not waiting",
                                       allow_none=True)
    poll_after_seconds = described(ma.fields.Integer, "ask again after this long (also the Retry-After header)")
    joined_at = described(ma.fields.AwareDateTime, "when this account took its place", allow_none=True)
    admitted_at = described(ma.fields.AwareDateTime, "when it was admitted", allow_none=True)
    admission_token = described(ma.fields.String, "send it as the Admission-Token header of POST /applications",
                                allow_none=True)
    admission_token_expires_at = described(ma.fields.AwareDateTime, "ask this resource again for a fresh one",
                                           allow_none=True)


class RoomSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "the campaign")
    phase = described(ma.fields.String, "the room's phase", validate=ma.validate.OneOf(ROOM_PHASES))
    pre_queue_opens_at = described(ma.fields.AwareDateTime, "families may join from then")
    opens_at = described(ma.fields.AwareDateTime, "the opening: the pre-queue's order is drawn then")
    closes_at = described(ma.fields.AwareDateTime, "the campaign's window closes")
    admissions_per_minute = described(ma.fields.Integer, "the configured pace (the most per minute)")
    commitment = described(ma.fields.String, "SHA-256 of the seed, hex, published before the opening")
    seed = described(ma.fields.String, "the seed, hex, published at the opening: a pre-queue family's ticket is "
                     "HMAC-SHA256(seed, family account) and the pre-queue is served by ascending ticket",
                     allow_none=True)


class RoomLiveSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "the campaign")
    phase = described(ma.fields.String, "the room's phase", validate=ma.validate.OneOf(ROOM_PHASES))
    joined = described(ma.fields.Integer, "families that took a place")
    admitted = described(ma.fields.Integer, "places admitted from the head")
    waiting = described(ma.fields.Integer, "families waiting")
    admitted_last_minute = described(ma.fields.Integer, "families admitted in the last minute")
    pace_per_minute = described(ma.fields.Float, "the pace now, adapted from intake's latency")
    admissions_per_minute = described(ma.fields.Integer, "the configured pace (the controller's ceiling)")
    oldest_waiting_since = described(ma.fields.AwareDateTime, "when the family at the head joined",
                                     allow_none=True)
