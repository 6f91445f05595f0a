"""Events of the registrations service: applications from intake to the ledger and beyond."""
import marshmallow as ma

from shared.contracts.fields import described
from shared.events.registry import EventContract, register
from shared.topics import APPLICATION_EVENTS, APPLICATION_SUBMISSIONS

HOLD_KINDS = ("held", "waitlisted", "none")
# Facts an agent can validate from a supporting document (issue 16): until then they are only declared.
VALIDATED_FACTS = ("quotient_tranche", "single_parent", "disability_allowance")
APPLICATION_STATUSES = ("received", "allocated", "waitlisted", "rejected", "confirmed", "declined", "expired",
                        "withdrawn")


class ActedForFamilySchema(ma.Schema):
    """Added to a family's own actions when a city agent made them on its behalf (issue 16); absent otherwise."""
    acted_by_agent = described(ma.fields.Boolean, "a city agent did this on the family's behalf (the family is told, "
                               "with the reason)", load_default=False)
    reason = described(ma.fields.String, "the reason the agent gave (shown to the family)", allow_none=True,
                       load_default=None)


class ChildFactsSchema(ma.Schema):
    child_id = described(ma.fields.UUID, "child id in the family's household", required=True)
    first_name = described(ma.fields.String, "first name", required=True)
    last_name = described(ma.fields.String, "last name", required=True)
    birth_date = described(ma.fields.Date, "birth date", required=True)
    disability_allowance = described(ma.fields.Boolean, "the child receives a disability allowance (AEEH)",
                                     required=True)
    school = described(ma.fields.String, "school attended", allow_none=True, load_default=None)


class HouseholdFactsSchema(ma.Schema):
    single_parent = described(ma.fields.Boolean, "single-parent household", required=True)
    quotient_tranche = described(ma.fields.Integer, "family-quotient tranche 1–10; null when none is on file",
                                 allow_none=True, required=True)
    quotient_justified_on = described(ma.fields.Date, "when the quotient was last justified", allow_none=True,
                                      load_default=None)
    residence_arrondissement = described(ma.fields.Integer, "Paris arrondissement of residence; null outside Paris",
                                         allow_none=True, required=True)
    postal_mail = described(ma.fields.Boolean, "the family asked for paper letters", required=True)
    validated_facts = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(VALIDATED_FACTS)), load_default=list,
        metadata={"description": "the facts a city agent had validated from a document when the family applied "
                  "(`disability_allowance`: this application's child); the others are only declared. A campaign "
                  "whose policy requires validated facts counts a declared-only fact as not met"})


class HoldSchema(ma.Schema):
    kind = described(ma.fields.String, "held: a place is held at `offer_id` (first-come campaigns); waitlisted: "
                     "waitlist position `position` at `offer_id`; none: decided later (lottery)", required=True,
                     validate=ma.validate.OneOf(HOLD_KINDS))
    offer_id = described(ma.fields.UUID, "offer the place or waitlist position is at", allow_none=True,
                         load_default=None)
    position = described(ma.fields.Integer, "waitlist position shown at intake (indicative)", allow_none=True,
                         load_default=None)


class ApplicationSubmittedSchema(ma.Schema):
    application_id = described(ma.fields.UUID, "application id, given at intake", required=True)
    campaign_id = described(ma.fields.UUID, "campaign applied to", required=True)
    family_account = described(ma.fields.String, "family account (token subject) that applied", required=True)
    child = ma.fields.Nested(ChildFactsSchema, required=True, metadata={"description": "the child, as at intake"})
    household = ma.fields.Nested(HouseholdFactsSchema, required=True,
                                 metadata={"description": "household facts the criteria use, as at intake"})
    choices = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(min=1),
                             metadata={"description": "offer ids, first choice first"})
    keep_with_applications = ma.fields.List(ma.fields.UUID(), required=True, metadata={
        "description": "sibling applications this child asked to be placed with"})
    sworn_statement = described(ma.fields.Boolean, "the parent certified the information", required=True)
    submitted_at = described(ma.fields.AwareDateTime, "server time of the intake acknowledgement (UTC)",
                             required=True)
    hold = ma.fields.Nested(HoldSchema, required=True, metadata={"description": "what intake told the parent"})
    # Not `reason`: application.received already names its intake refusal so.
    acted_by_agent = described(ma.fields.Boolean, "a city agent applied on the family's behalf (the family is told, "
                               "with the reason)", load_default=False)
    agent_reason = described(ma.fields.String, "the reason the agent gave (shown to the family)", allow_none=True,
                             load_default=None)
    agent_subject = described(ma.fields.String, "the agent who applied (token subject): who acted, for the ledger's "
                              "history and the family's audit trail; never shown to the family", allow_none=True,
                              load_default=None)
    arrival_number = described(ma.fields.Integer, "the campaign's arrival number, taken at intake with the hold (one "
                               "Redis script): the ledger's arrival order. Unique in the campaign, increasing, with "
                               "holes where a submission never reached the broker. Absent from records written "
                               "before it (their partition offset orders them)", validate=ma.validate.Range(min=1))


class ApplicationReceivedSchema(ApplicationSubmittedSchema):
    arrival_position = described(ma.fields.Integer, "arrival order in the campaign: intake's `arrival_number` (the "
                                 "partition offset for records without one); ranked with the application id "
                                 "breaking ties, it is the draw's arrival rank", required=True)
    intake_partition = described(ma.fields.Integer, "intake log partition the ledger read it from", required=True)
    status = described(ma.fields.String, "ledger status after intake: received, or rejected for a duplicate",
                       required=True, validate=ma.validate.OneOf(APPLICATION_STATUSES))
    reason = described(ma.fields.String, "why it was rejected at intake", allow_none=True, load_default=None)


class ApplicationWithdrawnSchema(ActedForFamilySchema):
    application_id = described(ma.fields.UUID, "application id", required=True)
    campaign_id = described(ma.fields.UUID, "campaign", required=True)
    family_account = described(ma.fields.String, "family account", required=True)
    previous_status = described(ma.fields.String, "status before the withdrawal", required=True,
                                validate=ma.validate.OneOf(APPLICATION_STATUSES))
    at = described(ma.fields.AwareDateTime, "when the parent (or an agent for the family) withdrew (UTC)",
                   required=True)
    late_fee_waived = described(ma.fields.Boolean, "an agent waived a confirmed place's late withdrawal fee (the "
                                "agents' one exception): credited in full", load_default=False)


_CAMPAIGN = "5b0f1c3e-8d1a-4c44-9a5e-2a9b4e0c7d11"
_SUBMITTED = {
    "application_id": "0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b", "campaign_id": _CAMPAIGN,
    "family_account": "family-7d2c", "choices": ["c3d9a8e2-1f7b-4e55-b0a4-6f1e2d3c4b5a"],
    "child": {"child_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "first_name": "Inès", "last_name": "Martin",
              "birth_date": "2016-05-14", "disability_allowance": False, "school": "École élémentaire Vivienne"},
    "household": {"single_parent": True, "quotient_tranche": 3, "quotient_justified_on": "2025-09-30",
                  "residence_arrondissement": 2, "postal_mail": False},
    "keep_with_applications": [], "sworn_statement": True, "submitted_at": "2026-02-01T23:01:00.412+00:00",
    "hold": {"kind": "none", "offer_id": None, "position": None},
}

register(EventContract(
    "application.submitted", 1, ApplicationSubmittedSchema, APPLICATION_SUBMISSIONS,
    "A parent's application, acknowledged with 202 once this record was on the broker. The intake consumer "
    "writes it to the ledger; consumers other than registrations should read `application.received`.",
    _SUBMITTED))
register(EventContract(
    "application.received", 1, ApplicationReceivedSchema, APPLICATION_EVENTS,
    "The application is in the ledger, with its arrival position. Allocation and notifications start here.",
    {**_SUBMITTED, "arrival_position": 1834, "intake_partition": 4, "status": "received", "reason": None}))
register(EventContract(
    "application.withdrawn", 1, ApplicationWithdrawnSchema, APPLICATION_EVENTS,
    "The parent withdrew the application (or a city agent for the family: `acted_by_agent`, `reason`); a place it "
    "held goes to the next on the waitlist.",
    {"application_id": _SUBMITTED["application_id"], "campaign_id": _CAMPAIGN, "family_account": "family-7d2c",
     "previous_status": "received", "at": "2026-02-03T08:15:00+00:00"}))


class ApplicationChoicesChangedSchema(ma.Schema):
    application_id = described(ma.fields.UUID, "application id: the same application, changed in place", required=True)
    campaign_id = described(ma.fields.UUID, "campaign (decided by a draw: first-come choices never change)",
                            required=True)
    family_account = described(ma.fields.String, "family account", required=True)
    choices = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(min=1),
                             metadata={"description": "the new ranked offer ids, first choice first"})
    keep_with_applications = ma.fields.List(ma.fields.UUID(), required=True, metadata={
        "description": "the sibling applications this child is now to be placed with"})
    previous_choices = ma.fields.List(ma.fields.UUID(), required=True,
                                      metadata={"description": "the ranked offer ids before the change"})
    at = described(ma.fields.AwareDateTime, "when the parent changed them, before the close (UTC)", required=True)


register(EventContract(
    "application.choices_changed", 1, ApplicationChoicesChangedSchema, APPLICATION_EVENTS,
    "The family changed the ranked choices (and the siblings kept with) of an application not yet decided, before "
    "the campaign's close. The application keeps its id, arrival position and draw line: replace the choices of "
    "your copy. Arriving after the application was decided (the draw made), it changes nothing.",
    {"application_id": _SUBMITTED["application_id"], "campaign_id": _CAMPAIGN, "family_account": "family-7d2c",
     "choices": ["e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b", _SUBMITTED["choices"][0]], "keep_with_applications": [],
     "previous_choices": _SUBMITTED["choices"], "at": "2026-02-05T19:42:00+00:00"}))


class IntakeClosedSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign whose intake is complete", required=True)
    closed_at = described(ma.fields.AwareDateTime, "the window's close (UTC), as `campaign.closed` announced it",
                          required=True)
    drained_at = described(ma.fields.AwareDateTime, "when the ledger had written every application acknowledged "
                           "before the close (UTC)", required=True)


register(EventContract(
    "application.intake_closed", 1, IntakeClosedSchema, APPLICATION_EVENTS,
    "The ledger has written every application acknowledged before the campaign's close: every partition of the "
    "intake log is read past the close. Keyed by campaign id and written after the campaign's last "
    "`application.received`, so a consumer that reads it has read every one of them: allocation draws then.",
    {"campaign_id": _CAMPAIGN, "closed_at": "2026-02-27T23:00:00+00:00", "drained_at": "2026-02-27T23:00:11+00:00"}))


class FamilyErasedSchema(ma.Schema):
    family_account = described(ma.fields.String, "the family account erased: each service erases or pseudonymises "
                               "what it holds of it", required=True)
    pseudonym = described(ma.fields.String, "what replaces the account where a record is kept (legal hold, "
                          "statistics): the same in every service", required=True)
    requested_by = described(ma.fields.String, "who asked: the family itself, or an agent on its behalf",
                             required=True, validate=ma.validate.OneOf(("family", "agent")))
    erased_at = described(ma.fields.AwareDateTime, "when registrations erased its records (UTC)", required=True)


register(EventContract(
    "family.erased", 1, FamilyErasedSchema, APPLICATION_EVENTS,
    "A family's data was erased on its request (RGPD art. 17; docs/privacy.md): registrations deleted its household "
    "and children and pseudonymised its ledger; every consumer erases or pseudonymises what it holds of the family.",
    {"family_account": "family-7d2c", "pseudonym": "erased-5f0c1d2e3a4b5c6d", "requested_by": "family",
     "erased_at": "2026-09-01T10:00:00+00:00"}))



class HouseholdFactValidatedSchema(ma.Schema):
    family_account = described(ma.fields.String, "family account whose fact was validated", required=True)
    fact = described(ma.fields.String, "the fact validated", required=True,
                     validate=ma.validate.OneOf(VALIDATED_FACTS))
    child_id = described(ma.fields.UUID, "the child, for `disability_allowance`; null otherwise", allow_none=True,
                         load_default=None)
    value = described(ma.fields.Raw, "the validated value: the tranche (1–10) for `quotient_tranche`, true or false "
                      "for the others", required=True)
    effective_from = described(ma.fields.Date, "first day the validated value applies (pricing: months from this "
                               "date's month are billed at it; earlier months are untouched)", required=True)
    validated_at = described(ma.fields.AwareDateTime, "when the agent validated it (UTC)", required=True)
    document_id = described(ma.fields.UUID, "the supporting document kept by registrations", required=True)


register(EventContract(
    "household.fact_validated", 1, HouseholdFactValidatedSchema, APPLICATION_EVENTS,
    "A city agent validated a household fact from a supporting document (issue 16). Keyed by family account. "
    "Allocation counts it for the family's applications not yet drawn and reprices billing lines from "
    "`effective_from`'s month when the tranche changed.",
    {"family_account": "family-7d2c", "fact": "quotient_tranche", "child_id": None, "value": 2,
     "effective_from": "2026-03-01", "validated_at": "2026-02-20T10:00:00+00:00",
     "document_id": "3f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}))


HOUSEHOLD_CORRECTIONS = ("facts", "child_added", "child_changed", "child_removed")


class HouseholdCorrectedSchema(ma.Schema):
    family_account = described(ma.fields.String, "family account whose household a city agent changed",
                               required=True)
    change = described(ma.fields.String, "what part: the household's facts, or one child added, changed or removed",
                       required=True, validate=ma.validate.OneOf(HOUSEHOLD_CORRECTIONS))
    child_id = described(ma.fields.UUID, "the child, for a child's change; null for the facts", allow_none=True,
                         required=True)
    fields = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "the names of the fields changed (`quotient_tranche`, `postal_address.city`, `first_name`…), "
                       "never their values"})
    reason = described(ma.fields.String, "the agent's motif, as the family reads it", required=True)
    at = described(ma.fields.AwareDateTime, "when the agent made the change (UTC)", required=True)


register(EventContract(
    "household.corrected", 1, HouseholdCorrectedSchema, APPLICATION_EVENTS,
    "A city agent changed a family's household on its behalf (issue 16): its facts, or one of its children added, "
    "changed or removed, with a motif; written with the change. Keyed by family account. Notifications tells the "
    "family; the values themselves stay in registrations (the family reads them in its household).",
    {"family_account": "family-7d2c", "change": "child_changed", "child_id": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
     "fields": ["birth_date"], "reason": "Acte de naissance présenté au guichet : date corrigée",
     "at": "2026-02-20T10:00:00+00:00"}))
