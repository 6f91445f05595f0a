"""What the agents' API accepts before any I/O: a family is found one way at least, a child by name and birth
date together, every action for a family with a reason; and what the audit trail compares of a household."""
from datetime import date
from uuid import uuid4

import marshmallow as ma
import pytest

from services.registrations.domain.household import Child, Household, PostalAddress
from services.registrations.usecases.answers import _for_agent, parent
from services.registrations.usecases.households import audited_facts
from services.registrations.web.agent_schemas import FamilyQuerySchema, ReasonSchema
from shared.audit import Actor, changed_fields


@pytest.mark.parametrize("query, field", [({}, "account"), ({"child_name": "Inès"}, "birth_date"),
                                          ({"birth_date": "2015-06-01"}, "child_name"),
                                          ({"email": "no-at-sign"}, "email"), ({"account": ""}, "account")])
def test_a_family_query_names_what_is_missing_or_wrong(query, field):
    with pytest.raises(ma.ValidationError) as refused:
        FamilyQuerySchema().load(query)
    assert field in refused.value.messages


def test_a_family_is_found_by_any_one_way():
    assert FamilyQuerySchema().load({"child_name": "Inès Martin", "birth_date": "2015-06-01"}) == {
        "child_name": "Inès Martin", "birth_date": date(2015, 6, 1)}
    assert FamilyQuerySchema().load({"account": "family-7d2c"}) == {"account": "family-7d2c"}


@pytest.mark.parametrize("body", [{}, {"reason": None}, {"reason": ""}, {"reason": "  \u00a0 "}, {"reason": "ok"},
                                  {"reason": "x" * 501}])
def test_a_reason_is_required_and_not_blank(body):
    with pytest.raises(ma.ValidationError) as refused:
        ReasonSchema().load(body)
    assert list(refused.value.messages) == ["reason"]


def test_only_an_agent_gives_a_reason_and_must():
    assert _for_agent(parent("family-1"), None) is None
    agent = Actor("agent-1", "agent", on_behalf_of="family-1")
    assert _for_agent(agent, "  Appel au 3975 ") == "Appel au 3975"
    with pytest.raises(ValueError):
        _for_agent(agent, "   ")


def test_the_trail_compares_a_households_facts_not_its_children_or_version():
    before = Household("family-1", children=(Child(uuid4(), "Inès", "Martin", date(2015, 6, 1)),), version=3)
    after = Household("family-1", quotient_tranche=3, quotient_justified_on=date(2026, 1, 5), postal_mail=True,
                      postal_address=PostalAddress("1 rue de Rivoli", "75001", "Paris"), version=4)
    changes = changed_fields(audited_facts(before), audited_facts(after))
    assert changes["quotient_tranche"] == {"before": None, "after": 3}
    assert changes["postal_address.city"] == {"before": None, "after": "Paris"}
    assert not {"children", "version", "family_account"} & {name.split(".")[0] for name in changes}
    assert audited_facts(None) is None
