"""docs/schemas/ is generated from the feed's contracts, and the contracts' examples validate against it."""
import json
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator, ValidationError

from examples.billing_preview.invoices import FEED_TYPES
from shared.contracts.json_schema import SCHEMAS_DIR, file_name, rendered
from shared.events import contract_for, make_event


def validator(event_type: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / file_name(contract_for(event_type))).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def example_event(event_type: str) -> dict:
    contract = contract_for(event_type)
    return make_event(event_type, source="/guichet/allocation", subject="registrations/example",
                      data=contract.schema().load(contract.example), time=datetime(2026, 3, 1, tzinfo=UTC)).to_dict()


def test_the_schema_files_are_generated_from_the_current_contracts():
    on_disk = {path.name: path.read_text() for path in SCHEMAS_DIR.glob("*.schema.json")}
    assert on_disk == rendered(), "docs/schemas/ is stale: run `make docs`"


@pytest.mark.parametrize("event_type", FEED_TYPES)
def test_each_contracts_example_event_validates(event_type):
    validator(event_type).validate(example_event(event_type))


@pytest.mark.parametrize("breakage", [
    lambda event: event["data"].pop("line_id"),
    lambda event: event["data"].update(unit_price_cents="9.00"),
    lambda event: event["data"].update(period_start="2026-13-02"),
    lambda event: event["data"].update(confirmed_at="yesterday"),
    lambda event: event.update(type="registration.confirmed"),
    lambda event: event.update(schemaversion=2),
])
def test_a_broken_credit_line_does_not_validate(breakage):
    event = example_event("registration.cancelled")
    breakage(event)
    with pytest.raises(ValidationError):
        validator("registration.cancelled").validate(event)


def test_fields_added_within_a_version_are_accepted():
    event = example_event("registration.confirmed")
    event["data"]["discount_cents"] = 0
    validator("registration.confirmed").validate(event)
