"""`application.submitted` as intake writes it, without a schema pass: the same wire form the
contract's schema dumps, for every shape of data (no I/O)."""
from datetime import date, datetime, timezone
from uuid import uuid4

import marshmallow as ma
import pytest

from services.registrations.domain.facts import FactValidation, validated_facts
from services.registrations.domain.household import Child, Household
from services.registrations.store.intake_guard import Hold
from services.registrations.usecases.intake import SOURCE, OnBehalf, Submission, SubmittedEvents
from shared.events import EventError, contract_for, make_event

SUBMITTED_AT = datetime(2026, 2, 1, 23, 1, 0, 412_000, tzinfo=timezone.utc)
OFFER = uuid4()
HOLDS = [Hold("none"), Hold("held", OFFER), Hold("waitlisted", OFFER, 3)]


def child(**facts) -> Child:
    return Child(uuid4(), "Inès", "Martin", date(2016, 5, 14), **facts)


def household(the_child: Child, **facts) -> Household:
    return Household("family-7d2c", children=(the_child,), **facts)


def submission(**overrides) -> Submission:
    values = dict(idempotency_key="k-1", campaign_id=uuid4(), child_id=uuid4(), choices=[OFFER, uuid4()],
                  keep_with_applications=[], sworn_statement=True)
    return Submission(**{**values, **overrides})


def validated_case() -> tuple:
    """A household whose tranche, single-parent status and this child's allowance an agent validated."""
    the_child = child(disability_allowance=True)
    the_household = household(the_child, single_parent=True, quotient_tranche=2,
                              quotient_justified_on=date(2026, 1, 10), validations=tuple(
                                  FactValidation(fact, value, date(2026, 2, 1), SUBMITTED_AT, "agent-1", uuid4(),
                                                 the_child.child_id if fact == "disability_allowance" else None)
                                  for fact, value in (("quotient_tranche", 2), ("single_parent", True),
                                                      ("disability_allowance", True))))
    return the_child, the_household, submission(), HOLDS[0]


CASES = [
    (child(), household(child()), submission(), HOLDS[0]),
    (child(school="École Vivienne", disability_allowance=True),
     household(child(), single_parent=True, quotient_tranche=3, quotient_justified_on=date(2025, 9, 30),
               arrondissement=2, postal_mail=True),
     submission(keep_with_applications=[uuid4(), uuid4()]), HOLDS[1]),
    (child(school=None), household(child(), quotient_tranche=None, arrondissement=None), submission(), HOLDS[2]),
    validated_case(),
]


def through_the_contract(application_id, the_child: Child, the_household: Household, the_submission: Submission,
                         hold: Hold, on_behalf: OnBehalf | None = None) -> dict:
    """What intake sent before: the native values dumped and validated by make_event (the agent's fields, which
    default to a family's own submission, written out)."""
    return make_event("application.submitted", source=SOURCE, subject=f"applications/{application_id}", data={
        "application_id": application_id, "campaign_id": the_submission.campaign_id,
        "family_account": the_household.family_account,
        "child": {"child_id": the_child.child_id, "first_name": the_child.first_name,
                  "last_name": the_child.last_name, "birth_date": the_child.birth_date,
                  "disability_allowance": the_child.disability_allowance, "school": the_child.school},
        "household": {"single_parent": the_household.single_parent,
                      "quotient_tranche": the_household.quotient_tranche,
                      "quotient_justified_on": the_household.quotient_justified_on,
                      "residence_arrondissement": the_household.arrondissement,
                      "postal_mail": the_household.postal_mail,
                      "validated_facts": validated_facts(the_household, the_child.child_id)},
        "choices": the_submission.choices, "keep_with_applications": the_submission.keep_with_applications,
        "sworn_statement": the_submission.sworn_statement, "submitted_at": SUBMITTED_AT, "hold": hold.as_dict(),
        "acted_by_agent": on_behalf is not None, "agent_reason": on_behalf and on_behalf.reason,
        "agent_subject": on_behalf and on_behalf.agent_subject,
    }).data


@pytest.mark.parametrize("the_child, the_household, the_submission, hold", CASES)
def test_wire_form_equals_what_the_contract_dumps(the_child, the_household, the_submission, hold):
    application_id = uuid4()
    event = SubmittedEvents().submitted(application_id, the_submission.campaign_id, the_household.family_account,
                                        the_child, the_household, the_submission, SUBMITTED_AT, hold)
    expected = through_the_contract(application_id, the_child, the_household, the_submission, hold)
    assert event.data == expected
    assert [type(v) for v in event.data.values()] == [type(v) for v in expected.values()]
    assert (event.type, event.source, event.subject) == ("application.submitted", SOURCE,
                                                         f"applications/{application_id}")
    assert event.schemaversion == contract_for("application.submitted").version
    contract_for("application.submitted").schema().load(event.to_dict()["data"])


def test_an_agents_submission_says_who_applied_and_why():
    the_child, the_household, the_submission, hold = CASES[1]
    agent = OnBehalf(agent_subject="agent-mairie-11", reason="Au guichet de la mairie du 11e")
    application_id = uuid4()
    event = SubmittedEvents().submitted(application_id, the_submission.campaign_id, the_household.family_account,
                                        the_child, the_household, the_submission, SUBMITTED_AT, hold, agent)
    assert event.data == through_the_contract(application_id, the_child, the_household, the_submission, hold, agent)
    assert (event.data["acted_by_agent"], event.data["agent_reason"], event.data["agent_subject"]) == (
        True, "Au guichet de la mairie du 11e", "agent-mairie-11")


class CountingSchema:
    def __init__(self, schema: ma.Schema):
        self.schema, self.calls = schema, 0

    def validate(self, data):
        self.calls += 1
        return self.schema.validate(data)


def test_the_first_event_of_each_shape_is_checked_against_the_contract():
    events = SubmittedEvents()
    events.schema = counting = CountingSchema(events.schema)
    for _ in range(3):
        for the_child, the_household, the_submission, hold in CASES:
            events.submitted(uuid4(), the_submission.campaign_id, "family-7d2c", the_child, the_household,
                             the_submission, SUBMITTED_AT, hold)
    assert counting.calls == len(CASES)


def test_a_contract_that_moved_away_from_intake_refuses_the_first_event():
    class Stricter(contract_for("application.submitted").schema):
        channel = ma.fields.String(required=True)

    events = SubmittedEvents()
    events.schema = Stricter()
    the_child, the_household, the_submission, hold = CASES[0]
    with pytest.raises(EventError, match="channel"):
        events.submitted(uuid4(), the_submission.campaign_id, "family-7d2c", the_child, the_household,
                         the_submission, SUBMITTED_AT, hold)
