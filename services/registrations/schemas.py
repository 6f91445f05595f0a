"""Request and response bodies of the applications API."""
import marshmallow as ma

from shared.contracts.applications import APPLICATION_STATUSES, HoldSchema
from shared.contracts.fields import described


class SubmissionSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign to apply to", required=True)
    child_id = described(ma.fields.UUID, "child of your household", required=True)
    choices = ma.fields.List(ma.fields.UUID(), required=True, validate=ma.validate.Length(min=1, max=10),
                             metadata={"description": "offer ids, your first choice first"})
    keep_with_applications = ma.fields.List(ma.fields.UUID(), load_default=list, metadata={
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
    reason = described(ma.fields.String, "why, when there is a reason", allow_none=True)
    at = described(ma.fields.AwareDateTime, "when (UTC)")


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
    hold = ma.fields.Nested(HoldSchema, metadata={"description": "what intake told the parent"})
    submitted_at = described(ma.fields.AwareDateTime, "when it was received (UTC)")
    arrival_position = described(ma.fields.Integer, "arrival order within the campaign's intake log",
                                 allow_none=True)
    placed_offer_id = described(ma.fields.UUID, "the offer whose place is offered or confirmed", allow_none=True)
    offer_expires_at = described(ma.fields.AwareDateTime, "accept the offered place before this instant (UTC)",
                                 allow_none=True)
    decision = ma.fields.Dict(allow_none=True, metadata={
        "description": "the allocation decision as published: outcome, waitlist positions, reasons, and "
                       "`explanation_url` where the parent reads why"})
    history = ma.fields.List(ma.fields.Nested(TransitionSchema), metadata={"description": "status changes"})
