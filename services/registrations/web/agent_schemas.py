"""Request and response bodies of the agents' API (web/agents.py): finding a family, applying for it, and the
reason every action for a family carries."""
from __future__ import annotations

from typing import Any

import marshmallow as ma

from services.registrations.web.schemas import (
    EMAIL_MAX_LENGTH,
    HouseholdFactsSchema,
    NewChildSchema,
    SubmissionSchema,
)
from shared.contracts.fields import described
from shared.schema_fields import Text

ACCOUNT_MAX_LENGTH = 255
NAME_MAX_LENGTH = 201  # a first name and a last name, as the household keeps them, and a space
REASON_MIN_LENGTH = 3
REASON_MAX_LENGTH = 500


def reason_field() -> ma.fields.Field:
    return described(Text, f"why the agent acts for the family ({REASON_MIN_LENGTH}–{REASON_MAX_LENGTH} characters): "
                     "the family reads it in its history (« fait par un agent, le …, motif : … ») and its message",
                     required=True, validate=[ma.validate.Length(min=REASON_MIN_LENGTH, max=REASON_MAX_LENGTH),
                                              ma.validate.Regexp(r"\s*\S", error="Give a reason, not blanks.")])


class FamilyQuerySchema(ma.Schema):
    """One way at least: the account, the email, or a child's name with its birth date."""
    account = described(Text, "the family account (the parent's login subject), exactly",
                        validate=ma.validate.Length(min=1, max=ACCOUNT_MAX_LENGTH))
    email = described(ma.fields.Email, "the household's email, without regard to case",
                      validate=ma.validate.Length(max=EMAIL_MAX_LENGTH))
    child_name = described(Text, "a child's first name, last name or both (either order), without regard to case; "
                           "with `birth_date`", validate=ma.validate.Length(min=1, max=NAME_MAX_LENGTH))
    birth_date = described(ma.fields.Date, "the child's birth date; with `child_name`")

    @ma.validates_schema
    def _one_way_at_least(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("child_name" in data) != ("birth_date" in data):
            missing = "birth_date" if "child_name" in data else "child_name"
            raise ma.ValidationError("A child is found by its name and its birth date together.",
                                     field_name=missing)
        if not data:
            raise ma.ValidationError("Give the account, the email, or a child's name and birth date.",
                                     field_name="account")


class FamilyChildSchema(ma.Schema):
    child_id = described(ma.fields.UUID, "the child's id")
    first_name = described(ma.fields.String, "first name")
    last_name = described(ma.fields.String, "last name")
    birth_date = described(ma.fields.Date, "birth date")


class FamilySchema(ma.Schema):
    """A family found: enough to tell it from another at the counter."""
    family_account = described(ma.fields.String, "the family account")
    email = described(ma.fields.String, "the household's email", allow_none=True)
    arrondissement = described(ma.fields.Integer, "Paris arrondissement of residence", allow_none=True)
    children = ma.fields.List(ma.fields.Nested(FamilyChildSchema), metadata={"description": "its present children"})


class ReasonSchema(ma.Schema):
    reason = reason_field()


class AgentWithdrawalSchema(ReasonSchema):
    waive_late_fee = described(ma.fields.Boolean, "the one exception agents may make to a campaign's rules "
                               "(docs/campaigns.md#lifecycle): a confirmed place given up after its free withdrawal "
                               "date is credited in full, no late fee kept; said in the reason, logged in the audit "
                               "trail and on the credit line (`cancellation_rule` agent_exception)",
                               load_default=False)


class HouseholdCorrectionSchema(HouseholdFactsSchema):
    """The household's facts, all sent (as a parent's PUT /household), and the agent's reason."""
    reason = reason_field()


class AgentChildSchema(NewChildSchema):
    """A child as an agent adds it or sets it whole (the parent's POST /household/children body; on a PUT, a field
    left out takes its default: no school, no allowance), with the agent's reason."""
    REQUIRED = (*NewChildSchema.REQUIRED, "reason")
    reason = reason_field()


class AgentSubmissionSchema(SubmissionSchema):
    """A parent's application (POST /applications) made by an agent for the family, with the agent's reason;
    `sworn_statement`: the family certified its information to the agent."""
    reason = reason_field()
