"""Validated household facts (issue 16): a quotient tranche, single-parent status or a child's disability allowance
is only *declared* until a city agent validates it from a supporting document, with the date it takes effect.

A validation is kept per fact (per child for the allowance) on the household: the value validated, when it takes
effect, when and by whom it was validated, the document it rests on. It holds while the household's value is the
value validated: a parent who changes that value (or removes the child) makes the fact declared again
(`household.py` drops the validation in the same change), and changing it back does not restore it.

Validating sets the household's value to the value validated (the document's, which may differ from the
declaration): the quotient's justification date becomes the validation's day. Validating again with the same
value, effective date and document changes nothing (`FactValidated.changed` is False).

Plain values, no I/O; `household.py` imports this module, not the reverse (the household is duck-typed here).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.domain.violations import RuleViolation, Violation

if TYPE_CHECKING:
    from services.registrations.domain.household import Household

QUOTIENT_TRANCHE = "quotient_tranche"
SINGLE_PARENT = "single_parent"
DISABILITY_ALLOWANCE = "disability_allowance"
# The contract's VALIDATED_FACTS (shared/contracts/applications.py): a unit test keeps them equal.
VALIDATED_FACTS = (QUOTIENT_TRANCHE, SINGLE_PARENT, DISABILITY_ALLOWANCE)
TRANCHES = range(1, 11)
# How far from the validation's day an effective date may be: a year back (a late validation of last autumn's
# quotient), a year ahead (next September's).
EFFECTIVE_DATE_REACH = timedelta(days=366)


class FactStatus(StrEnum):
    DECLARED = "declared"
    VALIDATED = "validated"


@dataclass(frozen=True)
class FactValidation:
    fact: str  # one of VALIDATED_FACTS
    value: int | bool
    effective_from: date
    validated_at: datetime
    validated_by: str  # the agent's subject
    document_id: UUID
    child_id: UUID | None = None  # the child, for disability_allowance

    @property
    def key(self) -> tuple[str, UUID | None]:
        return self.fact, self.child_id


@dataclass(frozen=True)
class FactState:
    """What a family reads of one fact: its value and whether (from when, on which document) it is validated."""
    fact: str
    child_id: UUID | None
    value: Any
    status: FactStatus
    effective_from: date | None = None
    validated_at: datetime | None = None
    document_id: UUID | None = None


@dataclass(frozen=True)
class FactValidated:
    household: Household
    validation: FactValidation
    changed: bool  # False: the same validation was already in force (a repeat)


class FactValidationInvalid(RuleViolation):
    """The validation asked breaks a rule (the value's type or range, the child, the effective date)."""


def declared_value(household: Household, fact: str, child_id: UUID | None = None) -> Any:
    if fact == QUOTIENT_TRANCHE:
        return household.quotient_tranche
    if fact == SINGLE_PARENT:
        return household.single_parent
    return household.child(child_id).disability_allowance


def in_force(household: Household) -> tuple[FactValidation, ...]:
    """The household's validations whose value is still the household's (a present child's, for the allowance)."""
    present = {child.child_id for child in household.children}

    def holds(validation: FactValidation) -> bool:
        if validation.fact == DISABILITY_ALLOWANCE and validation.child_id not in present:
            return False
        return _same(declared_value(household, validation.fact, validation.child_id), validation.value)
    return tuple(validation for validation in household.validations if holds(validation))


def validate_fact(household: Household, fact: str, *, value: Any, effective_from: date, document_id: UUID,
                  validated_by: str, validated_at: datetime, today: date,
                  child_id: UUID | None = None) -> FactValidated:
    """The household with `fact` set to `value` and validated from `document_id` as of `effective_from`."""
    _raise_if_any(_violations(household, fact, value, effective_from, child_id, today))
    current = next((v for v in household.validations if v.key == (fact, child_id)), None)
    if (current is not None and _same(current.value, value) and current.effective_from == effective_from
            and current.document_id == document_id and _same(declared_value(household, fact, child_id), value)):
        return FactValidated(household, current, changed=False)
    validation = FactValidation(fact=fact, value=value, effective_from=effective_from, validated_at=validated_at,
                                validated_by=validated_by, document_id=document_id, child_id=child_id)
    if fact == QUOTIENT_TRANCHE:
        changed = replace(household, quotient_tranche=value, quotient_justified_on=today)
    elif fact == SINGLE_PARENT:
        changed = replace(household, single_parent=value)
    else:
        changed = replace(household, children=tuple(
            replace(child, disability_allowance=value) if child.child_id == child_id else child
            for child in household.children))
    others = tuple(v for v in changed.validations if v.key != validation.key)
    return FactValidated(replace(changed, validations=(*others, validation)), validation, changed=True)


def fact_states(household: Household) -> list[FactState]:
    """Every validatable fact of the household: the two household facts, then each present child's allowance."""
    held = {validation.key: validation for validation in in_force(household)}
    keys = [(QUOTIENT_TRANCHE, None), (SINGLE_PARENT, None),
            *((DISABILITY_ALLOWANCE, child.child_id) for child in household.children)]
    return [_state(household, fact, child_id, held.get((fact, child_id))) for fact, child_id in keys]


def _state(household: Household, fact: str, child_id: UUID | None, held: FactValidation | None) -> FactState:
    value = declared_value(household, fact, child_id)
    if held is None:
        return FactState(fact, child_id, value, FactStatus.DECLARED)
    return FactState(fact, child_id, value, FactStatus.VALIDATED, held.effective_from, held.validated_at,
                     held.document_id)


def validated_facts(household: Household, child_id: UUID) -> list[str]:
    """The facts validated for an application of `child_id` (the contract's `validated_facts`): the household's
    validated facts, and `disability_allowance` when this child's is validated."""
    return [validation.fact for validation in in_force(household)
            if validation.fact != DISABILITY_ALLOWANCE or validation.child_id == child_id]


def _violations(household: Household, fact: str, value: Any, effective_from: date, child_id: UUID | None,
                today: date) -> list[Violation]:
    violations = []
    if fact not in VALIDATED_FACTS:
        return [Violation("fact-unknown", "fact", f"The facts an agent validates are {', '.join(VALIDATED_FACTS)}.")]
    if fact == QUOTIENT_TRANCHE:
        if isinstance(value, bool) or not isinstance(value, int) or value not in TRANCHES:
            violations.append(Violation("tranche-out-of-range", "value",
                                        f"The family-quotient tranche is from {TRANCHES[0]} to {TRANCHES[-1]}."))
    elif not isinstance(value, bool):
        violations.append(Violation("value-not-boolean", "value", "This fact is true or false."))
    if fact == DISABILITY_ALLOWANCE:
        if child_id is None:
            violations.append(Violation("child-missing", "child_id", "Name the child whose allowance is validated."))
        elif all(child.child_id != child_id for child in household.children):
            violations.append(Violation("child-unknown", "child_id", "The household has no such child."))
    elif child_id is not None:
        violations.append(Violation("child-not-applicable", "child_id", "Only the allowance is a child's fact."))
    if abs(effective_from - today) > EFFECTIVE_DATE_REACH:
        violations.append(Violation("effective-date-out-of-reach", "effective_from",
                                    "The effective date is within a year of today."))
    return violations


def _same(declared: Any, validated: Any) -> bool:
    """Equal and of the same kind: True is not the tranche 1."""
    return type(declared) is type(validated) and declared == validated


def _raise_if_any(violations: list[Violation]) -> None:
    if violations:
        raise FactValidationInvalid(violations)
