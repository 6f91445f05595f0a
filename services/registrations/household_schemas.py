"""What the household API reads and writes. Types and formats only: the rules (ranges, lengths,
dates, duplicates) live in the domain, which names the field it refuses."""
import marshmallow as ma

from services.registrations.domain.household import (Language, MAX_CHILD_AGE, MAX_CHILDREN, MAX_TEXT_LENGTH,
                                                     NO_QUOTIENT_TRANCHE, PostalAddress)
from shared.contracts.fields import described

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path


class PostalAddressSchema(ma.Schema):
    line1 = described(ma.fields.String, f"number and street (up to {MAX_TEXT_LENGTH} characters)", required=True)
    line2 = described(ma.fields.String, "building, staircase, floor…; null for none", allow_none=True,
                      load_default=None)
    postal_code = described(ma.fields.String, "five digits, e.g. 75011", required=True)
    city = described(ma.fields.String, "city, e.g. Paris", required=True)

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
    first_name = described(ma.fields.String, f"first name as on the civil record (1–{MAX_TEXT_LENGTH} characters, "
                           "trimmed)")
    last_name = described(ma.fields.String, f"last name as on the civil record (1–{MAX_TEXT_LENGTH} characters, "
                          "trimmed)")
    birth_date = described(ma.fields.Date, f"birth date, not in the future, at most {MAX_CHILD_AGE} years ago")
    school = described(ma.fields.String, f"school attended (up to {MAX_TEXT_LENGTH} characters); null for none",
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


class HouseholdSchema(HouseholdFactsSchema):
    """A household: its facts, its present children and its version."""
    family_account = described(ma.fields.String, "the family account (the parent's login subject)", dump_only=True)
    effective_tranche = described(ma.fields.Integer, f"the tranche pricing and criteria use: the quotient tranche, "
                                  f"or {NO_QUOTIENT_TRANCHE} without one", dump_only=True)
    children = ma.fields.List(ma.fields.Nested(ChildSchema), dump_only=True, metadata={
        "description": f"the children (at most {MAX_CHILDREN}), first added first; removed ones are not listed"})
    version = described(ma.fields.Integer, "counts the changes; the ETag follows it", dump_only=True)
