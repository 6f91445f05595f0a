"""Every bad input a hostile or careless client sends to registrations: a 413, 400 or 422 problem naming what
is wrong, never a 500, and nothing stored or sent."""
import json
from datetime import date
from uuid import uuid4

import pytest

from tests.support.registrations import campaign_snapshot

FACTS = {"single_parent": False, "quotient_tranche": None, "quotient_justified_on": None, "arrondissement": 11,
         "postal_mail": True, "email": None, "language": "fr",
         "postal_address": {"line1": "12 rue Oberkampf", "line2": None, "postal_code": "75011", "city": "Paris"}}


def problem_fields(response) -> list[str]:
    assert response.mimetype == "application/problem+json", response.data
    return [error["field"] for error in response.json.get("errors", [])]


def household(registrations, account):
    return registrations.get(account, "/household")


def put_household(registrations, account, body: bytes | dict, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return registrations.client.put("/household", data=data, content_type="application/json", headers={
        "Authorization": f"Bearer {registrations.token_for('parent', account)}", "If-Match": "*", **headers})


def test_a_body_over_the_services_limit_is_refused_with_413_before_it_is_read(registrations):
    account = f"family-{uuid4().hex[:8]}"
    padded = {**FACTS, "postal_address": {**FACTS["postal_address"], "line2": "x" * 40_000}}
    refused = put_household(registrations, account, padded)
    assert refused.status_code == 413 and refused.json["code"] == "body-too-large"
    assert problem_fields(refused) == ["body"]
    assert household(registrations, account).status_code == 404


def test_json_nested_thousands_deep_is_a_400_problem_not_a_recursion_error(registrations):
    account = f"family-{uuid4().hex[:8]}"
    deep = b'{"single_parent": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    refused = put_household(registrations, account, deep)
    assert refused.status_code == 400 and refused.json["code"] == "body-too-deep"
    assert problem_fields(refused) == ["body"]
    # Deep inside strings does not count: an ordinary value with brackets is read as usual.
    bracketed = {**FACTS, "postal_address": {**FACTS["postal_address"], "line2": "[" * 100}}
    assert put_household(registrations, account, bracketed).status_code == 200


@pytest.mark.parametrize(("path", "character"), [
    (("postal_address", "line1"), "\x00"), (("postal_address", "city"), "\x1b"), (("postal_address", "line2"), "\n"),
    (("postal_address", "postal_code"), "\u0085"), (("postal_address", "line1"), "\ud800"),
])
def test_a_control_character_in_any_household_text_is_refused_naming_the_field(registrations, path, character):
    account = f"family-{uuid4().hex[:8]}"
    body = json.loads(json.dumps(FACTS))
    body[path[0]][path[1]] = f"12 rue{character}Oberkampf"
    refused = put_household(registrations, account, body)
    assert refused.status_code == 422 and problem_fields(refused) == [".".join(path)]
    assert household(registrations, account).status_code == 404


@pytest.mark.parametrize("field", ["first_name", "last_name", "school"])
def test_a_nul_in_a_childs_text_is_refused_naming_the_field(registrations, field):
    account, _ = registrations.family()
    child = {"first_name": "Léa", "last_name": "Martin", "birth_date": "2016-05-04", field: "Lé\x00a"}
    refused = registrations.client.post("/household/children", json=child, headers={
        "Authorization": f"Bearer {registrations.token_for('parent', account)}", "Idempotency-Key": uuid4().hex})
    assert refused.status_code == 422 and problem_fields(refused) == [field]
    assert len(household(registrations, account).json["children"]) == 1


def test_lists_of_an_application_are_bounded_and_nothing_is_sent(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()
    too_many_siblings = registrations.submit(account, campaign, child,
                                             keep_with_applications=[str(uuid4()) for _ in range(40)])
    assert too_many_siblings.status_code == 422 and problem_fields(too_many_siblings) == ["keep_with_applications"]
    # 40,000 ids do not even reach the schema: the body is over the service's size limit.
    huge = registrations.submit(account, campaign, child, keep_with_applications=[str(uuid4()) for _ in range(40_000)])
    assert huge.status_code == 413 and problem_fields(huge) == ["body"]
    too_many_choices = registrations.submit(account, campaign, child, choices=[uuid4() for _ in range(11)])
    assert too_many_choices.status_code == 422 and problem_fields(too_many_choices) == ["choices"]
    # Within the static bound, but more siblings than the household has other children.
    one_child_household = registrations.submit(account, campaign, child, keep_with_applications=[str(uuid4())])
    assert one_child_household.status_code == 422 and one_child_household.json["code"] == "too-many-siblings"
    assert problem_fields(one_child_household) == ["keep_with_applications"]
    assert registrations.ledger() == {}
    # The refused submissions held nothing: the child can still apply.
    assert registrations.submit(account, campaign, child).status_code == 202


def test_a_record_the_broker_would_refuse_is_a_422_not_a_503_and_the_hold_is_given_back(registrations):
    from services.registrations.bootstrap import RegistrationsComponents

    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child, sibling) = registrations.family(birth_dates=(date(2015, 6, 1), date(2016, 6, 1)))
    with registrations.client.application.app_context():
        producer = RegistrationsComponents.current().intake.producer()
    # A producer whose records may be 300 bytes at most, as if the broker's limit were that small: every
    # application is too large for it, and send() refuses it before anything is buffered.
    producer._options["max_request_size"] = 300
    producer.reset()
    refused = registrations.submit(account, campaign, child, keep_with_applications=[str(uuid4())])
    assert refused.status_code == 422 and refused.json["code"] == "too-large"
    assert problem_fields(refused) == ["keep_with_applications"]
    producer._options.pop("max_request_size")
    producer.reset()
    # Nothing was held: the same child applies once records fit.
    assert registrations.submit(account, campaign, child).status_code == 202
