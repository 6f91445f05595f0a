"""Household rules: plain values, no I/O."""
import ast
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest

import services.registrations.domain.documents as documents_module
import services.registrations.domain.facts as facts_module
import services.registrations.domain.household as household_module
from services.registrations.domain.household import (
    MAX_CHILDREN,
    Child,
    ChildNotFound,
    DuplicateChild,
    Household,
    HouseholdInvalid,
    Language,
    add_child,
    change_child,
    remove_child,
    with_facts,
)

TODAY = date(2026, 1, 15)
FACTS = dict(single_parent=True, quotient_tranche=3, quotient_justified_on=date(2025, 9, 30), arrondissement=11,
             postal_mail=False, email="famille@example.fr", language=Language.FR)


def a_child(**overrides) -> Child:
    values = dict(child_id=uuid4(), first_name="Léa", last_name="Martin", birth_date=date(2016, 5, 4),
                  school="École Parmentier", school_arrondissement=11)
    values.update(overrides)
    return Child(**values)


def refused(call, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(HouseholdInvalid) as caught:
        call(*args, **kwargs)
    return {violation.field: violation.code for violation in caught.value.violations}


def test_facts_replace_and_keep_children_and_version():
    child = a_child()
    stored = Household("family-1", children=(child,), version=4)
    changed = with_facts(stored, TODAY, **FACTS)
    assert (changed.quotient_tranche, changed.children, changed.version) == (3, (child,), 4)


def test_without_a_quotient_the_highest_tranche_applies():
    assert Household("family-1").effective_tranche == 10
    assert with_facts(Household("family-1"), TODAY, **FACTS).effective_tranche == 3


@pytest.mark.parametrize("facts, field, code", [
    ({"quotient_tranche": 0}, "quotient_tranche", "tranche-out-of-range"),
    ({"quotient_tranche": 11}, "quotient_tranche", "tranche-out-of-range"),
    ({"quotient_justified_on": None}, "quotient_justified_on", "quotient-justification-missing"),
    ({"quotient_justified_on": date(2026, 1, 16)}, "quotient_justified_on", "date-in-future"),
    ({"quotient_tranche": None}, "quotient_tranche", "quotient-tranche-missing"),
    ({"arrondissement": 21}, "arrondissement", "arrondissement-unknown"),
])
def test_facts_that_break_a_rule_name_their_field(facts, field, code):
    assert refused(with_facts, Household("family-1"), TODAY, **{**FACTS, **facts}) == {field: code}


def test_every_broken_fact_is_reported_at_once():
    broken = {**FACTS, "quotient_tranche": 12, "arrondissement": 0}
    assert refused(with_facts, Household("family-1"), TODAY, **broken) == {
        "quotient_tranche": "tranche-out-of-range", "arrondissement": "arrondissement-unknown"}


def test_no_quotient_needs_no_date_and_a_blank_email_is_none():
    facts = {**FACTS, "quotient_tranche": None, "quotient_justified_on": None, "email": "  "}
    household = with_facts(Household("family-1"), TODAY, **facts)
    assert (household.quotient_tranche, household.email) == (None, None)


def test_names_are_trimmed_and_a_blank_school_is_none():
    child = a_child(first_name="  Léa   Rose ", last_name=" Martin", school="   ")
    added = add_child(Household("family-1"), child, TODAY).child(child.child_id)
    assert (added.first_name, added.last_name, added.school) == ("Léa Rose", "Martin", None)


@pytest.mark.parametrize("overrides, field, code", [
    ({"first_name": "   "}, "first_name", "name-empty"),
    ({"last_name": "x" * 101}, "last_name", "too-long"),
    ({"school": "x" * 101}, "school", "too-long"),
    ({"birth_date": date(2026, 1, 16)}, "birth_date", "date-in-future"),
    ({"birth_date": date(2000, 1, 15)}, "birth_date", "birth-date-too-old"),
    ({"school_arrondissement": 0}, "school_arrondissement", "arrondissement-unknown"),
])
def test_a_child_that_breaks_a_rule_names_its_field(overrides, field, code):
    assert refused(add_child, Household("family-1"), a_child(**overrides), TODAY) == {field: code}


def test_a_child_born_today_or_on_the_eve_of_turning_26_is_accepted():
    household = add_child(Household("family-1"), a_child(birth_date=TODAY), TODAY)
    assert len(add_child(household, a_child(birth_date=date(2000, 1, 16)), TODAY).children) == 2


def test_at_most_twelve_children():
    household = Household("family-1", children=tuple(a_child(first_name=f"Enfant {n}") for n in range(MAX_CHILDREN)))
    assert refused(add_child, household, a_child(), TODAY) == {"children": "too-many-children"}


def test_the_same_child_twice_is_refused_whatever_the_case_and_spacing():
    first = a_child()
    household = add_child(Household("family-1"), first, TODAY)
    with pytest.raises(DuplicateChild) as caught:
        add_child(household, a_child(first_name=" LÉA ", last_name="martin"), TODAY)
    assert caught.value.existing.child_id == first.child_id
    twin = a_child(first_name="Jade")
    assert len(add_child(household, twin, TODAY).children) == 2


def test_a_change_applies_to_one_child_and_keeps_the_others():
    lea, jade = a_child(), a_child(first_name="Jade")
    household = Household("family-1", children=(lea, jade))
    changed = change_child(household, jade.child_id, TODAY, school=None, disability_allowance=True)
    assert changed.children == (lea, replace(jade, school=None, disability_allowance=True))


def test_a_change_cannot_make_a_duplicate_or_break_a_rule():
    lea, jade = a_child(), a_child(first_name="Jade")
    household = Household("family-1", children=(lea, jade))
    with pytest.raises(DuplicateChild):
        change_child(household, jade.child_id, TODAY, first_name="Léa")
    assert refused(change_child, household, jade.child_id, TODAY, last_name="") == {"last_name": "name-empty"}


def test_unknown_child_ids_are_not_found():
    household = Household("family-1", children=(a_child(),))
    for call in (lambda: household.child(uuid4()), lambda: remove_child(household, uuid4()),
                 lambda: change_child(household, uuid4(), TODAY, first_name="Jade")):
        with pytest.raises(ChildNotFound):
            call()


def test_removing_a_child_keeps_the_others():
    lea, jade = a_child(), a_child(first_name="Jade")
    assert remove_child(Household("family-1", children=(lea, jade)), lea.child_id).children == (jade,)


@pytest.mark.parametrize("module", [household_module, facts_module, documents_module])
def test_the_household_module_is_plain_python(module):
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    # shared.domain's age rule and violations are what every service shares; they are plain Python too, as are
    # the household's validated facts and documents (checked here).
    assert all(module.split(".")[0] in sys.stdlib_module_names
               or module in ("shared.domain.ages", "shared.domain.violations",
                             "services.registrations.domain.facts", "services.registrations.domain.household")
               for module in imported), imported
    calls = {node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
             for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert not calls & {"now", "today", "utcnow", "time", "open", "getenv"}
