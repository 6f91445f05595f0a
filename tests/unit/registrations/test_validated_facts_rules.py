"""Validated household facts and supporting documents (issue 16, item 4): plain values, no I/O."""
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from services.registrations.domain.documents import (
    MAX_DOCUMENT_BYTES,
    DocumentInvalid,
    DocumentTooLarge,
    DocumentTypeRefused,
    checked_upload,
    media_type_of,
)
from services.registrations.domain.facts import (
    VALIDATED_FACTS,
    FactStatus,
    FactValidationInvalid,
    validate_fact,
    validated_facts,
)
from services.registrations.domain.household import Child, Household, change_child, remove_child, with_facts
from shared.contracts.applications import VALIDATED_FACTS as CONTRACT_FACTS

TODAY = date(2026, 2, 20)
NOW = datetime(2026, 2, 20, 9, 30, tzinfo=UTC)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def a_household() -> Household:
    child = Child(child_id=uuid4(), first_name="Léa", last_name="Martin", birth_date=date(2016, 5, 4))
    return Household("family-1", single_parent=False, quotient_tranche=5, quotient_justified_on=date(2025, 9, 30),
                     children=(child,), version=3)


def validated(household: Household, fact: str, value, **overrides):
    arguments = dict(value=value, effective_from=date(2026, 3, 1), document_id=uuid4(), validated_by="agent-1",
                     validated_at=NOW, today=TODAY)
    arguments.update(overrides)
    return validate_fact(household, fact, **arguments)


def states(household: Household) -> dict:
    return {(state.fact, state.child_id): state for state in household.facts}


def test_the_domain_validates_the_facts_the_contract_names():
    assert VALIDATED_FACTS == CONTRACT_FACTS


def test_every_fact_is_declared_until_an_agent_validates_it():
    household = a_household()
    assert {state.status for state in household.facts} == {FactStatus.DECLARED}
    assert len(household.facts) == 3  # the tranche, single parent, the one child's allowance
    assert validated_facts(household, household.children[0].child_id) == []


def test_a_validated_tranche_becomes_the_households_from_its_effective_date():
    household = a_household()
    result = validated(household, "quotient_tranche", 2)
    assert result.changed
    assert (result.household.quotient_tranche, result.household.quotient_justified_on) == (2, TODAY)
    state = states(result.household)[("quotient_tranche", None)]
    assert (state.status, state.value, state.effective_from, state.document_id) == (
        FactStatus.VALIDATED, 2, date(2026, 3, 1), result.validation.document_id)
    assert states(result.household)[("single_parent", None)].status == FactStatus.DECLARED
    assert result.household.version == household.version  # the repository bumps it when it saves


def test_the_same_validation_again_changes_nothing_and_another_document_does():
    first = validated(a_household(), "single_parent", True)
    again = validated(first.household, "single_parent", True, document_id=first.validation.document_id)
    assert not again.changed and again.household == first.household
    other = validated(first.household, "single_parent", True)
    assert other.changed and len(other.household.validations) == 1


def test_a_parent_changing_a_validated_value_makes_it_declared_again_and_changing_it_back_does_not_restore_it():
    household = validated(a_household(), "quotient_tranche", 2).household
    kept = with_facts(household, TODAY, quotient_tranche=2, arrondissement=11)
    assert states(kept)[("quotient_tranche", None)].status == FactStatus.VALIDATED
    changed = with_facts(household, TODAY, quotient_tranche=4)
    assert states(changed)[("quotient_tranche", None)].status == FactStatus.DECLARED
    assert changed.validations == ()
    back = with_facts(changed, TODAY, quotient_tranche=2)
    assert states(back)[("quotient_tranche", None)].status == FactStatus.DECLARED


def test_a_childs_allowance_is_validated_for_that_child_and_dropped_with_a_change_or_the_child():
    household = a_household()
    child_id = household.children[0].child_id
    with_allowance = validated(household, "disability_allowance", True, child_id=child_id).household
    assert with_allowance.children[0].disability_allowance is True
    assert validated_facts(with_allowance, child_id) == ["disability_allowance"]
    assert validated_facts(with_allowance, uuid4()) == []  # another child's application
    renamed = change_child(with_allowance, child_id, TODAY, school="École Parmentier")
    assert validated_facts(renamed, child_id) == ["disability_allowance"]
    assert change_child(with_allowance, child_id, TODAY, disability_allowance=False).validations == ()
    assert remove_child(with_allowance, child_id).validations == ()


def test_single_parent_validated_false_is_validated_and_not_the_same_as_a_tranche():
    household = validated(a_household(), "single_parent", False).household
    assert validated_facts(household, uuid4()) == ["single_parent"]


@pytest.mark.parametrize("fact, value, extra, field, code", [
    ("quotient_tranche", 11, {}, "value", "tranche-out-of-range"),
    ("quotient_tranche", True, {}, "value", "tranche-out-of-range"),
    ("quotient_tranche", "2", {}, "value", "tranche-out-of-range"),
    ("single_parent", 1, {}, "value", "value-not-boolean"),
    ("disability_allowance", True, {}, "child_id", "child-missing"),
    ("disability_allowance", True, {"child_id": uuid4()}, "child_id", "child-unknown"),
    ("single_parent", True, {"child_id": uuid4()}, "child_id", "child-not-applicable"),
    ("single_parent", True, {"effective_from": TODAY + timedelta(days=400)}, "effective_from",
     "effective-date-out-of-reach"),
    ("income", True, {}, "fact", "fact-unknown"),
])
def test_a_wrong_validation_names_its_field(fact, value, extra, field, code):
    with pytest.raises(FactValidationInvalid) as refused:
        validated(a_household(), fact, value, **extra)
    assert {(v.field, v.code) for v in refused.value.violations} == {(field, code)}


@pytest.mark.parametrize("content, media_type", [(PDF, "application/pdf"), (PNG, "image/png"),
                                                 (JPEG, "image/jpeg"), (b"<html>%PDF-", None),
                                                 (b"GIF89a", None), (b"\x89PN", None)])
def test_the_type_is_read_from_the_content(content, media_type):
    assert media_type_of(content) == media_type


def test_an_upload_is_refused_too_large_of_another_type_or_with_bad_fields():
    with pytest.raises(DocumentTooLarge):
        checked_upload(PDF + b"\0" * MAX_DOCUMENT_BYTES, "quotient_tranche", None, None, frozenset())
    assert checked_upload(PDF + b"\0" * (MAX_DOCUMENT_BYTES - len(PDF)), "quotient_tranche", None, None,
                          frozenset()) == ("application/pdf", None)
    with pytest.raises(DocumentTypeRefused):
        checked_upload(b"GIF89a....", "quotient_tranche", None, "avis.pdf", frozenset())
    with pytest.raises(DocumentInvalid) as refused:
        checked_upload(b"", "disability_allowance", None, "x" * 201, frozenset())
    assert {v.field for v in refused.value.violations} == {"child_id", "filename", "body"}
    child_id = uuid4()
    assert checked_upload(PNG, "disability_allowance", child_id, "  AEEH   2026.png ", frozenset({child_id})) == (
        "image/png", "AEEH 2026.png")
