"""A family's household: the facts priority criteria and tariffs use, and its children.

Frozen values: each change returns a new household, checked as a whole, or raises with every
broken rule named by the field it concerns (relative to the body the parent sent: `first_name`
for a child, `quotient_tranche` for the household). Codes are the API contract; messages are
for people. "Today" is passed in: the domain never reads the clock.

`version` counts the stored changes; the repository bumps it when it saves.

`validations` are the facts a city agent validated from a document (`facts.py`): every change here keeps only
those whose value is still the household's, so a parent changing a validated value makes it declared again.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.registrations.domain.facts import FactState, FactValidation, fact_states, in_force
from shared.domain.ages import age_on
from shared.domain.violations import RuleViolation, Violation

TRANCHES = range(1, 11)
# Without a quotient on file a family pays, and ranks, as the highest tranche.
NO_QUOTIENT_TRANCHE = 10
PARIS_ARRONDISSEMENTS = range(1, 21)
MAX_CHILDREN = 12
MAX_TEXT_LENGTH = 100
MAX_CHILD_AGE = 25


class Language(StrEnum):
    FR = "fr"
    EN = "en"


@dataclass(frozen=True)
class Child:
    child_id: UUID
    first_name: str
    last_name: str
    birth_date: date
    school: str | None = None
    school_arrondissement: int | None = None
    disability_allowance: bool = False

    def same_person_as(self, other: Child) -> bool:
        return (_comparable(self.first_name), _comparable(self.last_name), self.birth_date) == (
            _comparable(other.first_name), _comparable(other.last_name), other.birth_date)


@dataclass(frozen=True)
class PostalAddress:
    """Where the family's paper letters go (France)."""
    line1: str
    postal_code: str
    city: str
    line2: str | None = None


@dataclass(frozen=True)
class Household:
    family_account: str
    single_parent: bool = False
    quotient_tranche: int | None = None
    quotient_justified_on: date | None = None
    arrondissement: int | None = None  # Paris arrondissement of residence; None outside Paris
    postal_mail: bool = False
    postal_address: PostalAddress | None = None  # required when postal_mail
    email: str | None = None
    language: Language = Language.FR
    children: tuple[Child, ...] = ()
    version: int = 0  # 0: never stored
    validations: tuple[FactValidation, ...] = ()  # validated by an agent (facts.py); the others are declared

    @property
    def effective_tranche(self) -> int:
        """The tranche pricing and criteria use."""
        return self.quotient_tranche if self.quotient_tranche is not None else NO_QUOTIENT_TRANCHE

    @property
    def facts(self) -> list[FactState]:
        """The facts an agent validates, each declared or validated (facts.py)."""
        return fact_states(self)

    def child(self, child_id: UUID) -> Child:
        found = next((child for child in self.children if child.child_id == child_id), None)
        if found is None:
            raise ChildNotFound(child_id)
        return found


class HouseholdInvalid(RuleViolation):
    """Every broken rule of a household at once, so a form can show them together."""


class HouseholdNotDeclared(Exception):
    """The family has not declared its household yet: children and applications need one."""

    def __init__(self, family_account: str):
        super().__init__(f"family {family_account} has not declared a household")
        self.family_account = family_account


class ChildNotFound(Exception):
    def __init__(self, child_id: UUID):
        super().__init__(f"no child {child_id} in this household")
        self.child_id = child_id


class DuplicateChild(Exception):
    """The same names and birth date are already in the household (a form sent twice with new keys)."""

    def __init__(self, existing: Child):
        super().__init__(f"this child is already in the household as {existing.child_id}")
        self.existing = existing


def declared(household: Household | None, family_account: str) -> Household:
    """The household, which the family must have declared before adding children or applying."""
    if household is None:
        raise HouseholdNotDeclared(family_account)
    return household


def with_facts(household: Household, today: date, **facts: Any) -> Household:
    """The household with its facts replaced (children and version kept)."""
    changed = replace(household, **facts)
    changed = replace(changed, email=_optional_text(changed.email),
                      postal_address=_normalised_address(changed.postal_address))
    _raise_if_any(_fact_violations(changed, today))
    return _validations_kept(changed)


def add_child(household: Household, child: Child, today: date) -> Household:
    child = _normalised(child)
    _raise_if_any(_child_violations(child, today))
    if len(household.children) >= MAX_CHILDREN:
        raise HouseholdInvalid([Violation("too-many-children", "children",
                                          f"A household has at most {MAX_CHILDREN} children.")])
    _refuse_duplicate(household.children, child)
    return replace(household, children=(*household.children, child))


def change_child(household: Household, child_id: UUID, today: date, **changes: Any) -> Household:
    changed = _normalised(replace(household.child(child_id), **changes))
    _raise_if_any(_child_violations(changed, today))
    _refuse_duplicate([c for c in household.children if c.child_id != child_id], changed)
    return _validations_kept(replace(household, children=tuple(changed if c.child_id == child_id else c
                                                               for c in household.children)))


def remove_child(household: Household, child_id: UUID) -> Household:
    leaving = household.child(child_id)
    return _validations_kept(replace(household, children=tuple(c for c in household.children if c is not leaving)))


def _validations_kept(household: Household) -> Household:
    """Only the validations still true of the changed household: a changed value is declared again."""
    return replace(household, validations=in_force(household))


def _fact_violations(household: Household, today: date) -> list[Violation]:
    violations = []
    tranche, justified_on = household.quotient_tranche, household.quotient_justified_on
    if tranche is not None and tranche not in TRANCHES:
        violations.append(Violation("tranche-out-of-range", "quotient_tranche",
                                    f"The family-quotient tranche is from {TRANCHES[0]} to {TRANCHES[-1]}."))
    if tranche is not None and justified_on is None:
        violations.append(Violation("quotient-justification-missing", "quotient_justified_on",
                                    "Give the date the tranche was last justified."))
    if tranche is None and justified_on is not None:
        violations.append(Violation("quotient-tranche-missing", "quotient_tranche",
                                    "A justification date needs the tranche it justified."))
    if justified_on is not None and justified_on > today:
        violations.append(Violation("date-in-future", "quotient_justified_on",
                                    "The quotient cannot have been justified after today."))
    if household.arrondissement is not None and household.arrondissement not in PARIS_ARRONDISSEMENTS:
        violations.append(_arrondissement_violation("arrondissement"))
    violations += _address_violations(household)
    return violations


def _address_violations(household: Household) -> list[Violation]:
    address = household.postal_address
    if address is None:
        return [Violation("postal-address-missing", "postal_address",
                          "Give the postal address the paper letters go to.")] if household.postal_mail else []
    violations = []
    for field, text in (("line1", address.line1), ("city", address.city)):
        if not text:
            violations.append(Violation("address-part-empty", f"postal_address.{field}", "This part is required."))
    for field, text in (("line1", address.line1), ("line2", address.line2), ("city", address.city)):
        if text and len(text) > MAX_TEXT_LENGTH:
            violations.append(_too_long(f"postal_address.{field}"))
    if not (len(address.postal_code) == 5 and address.postal_code.isdigit()):
        violations.append(Violation("postal-code-invalid", "postal_address.postal_code",
                                    "A French postal code has five digits."))
    return violations


def _normalised_address(address: PostalAddress | None) -> PostalAddress | None:
    if address is None:
        return None
    return PostalAddress(line1=_single_spaced(address.line1), postal_code=address.postal_code.strip(),
                         city=_single_spaced(address.city), line2=_optional_text(address.line2))


def _child_violations(child: Child, today: date) -> list[Violation]:
    violations = []
    for field, name in (("first_name", child.first_name), ("last_name", child.last_name)):
        if not name:
            violations.append(Violation("name-empty", field, "Give the name as on the civil record."))
        elif len(name) > MAX_TEXT_LENGTH:
            violations.append(_too_long(field))
    if child.birth_date > today:
        violations.append(Violation("date-in-future", "birth_date", "The birth date cannot be in the future."))
    elif age_on(child.birth_date, today) > MAX_CHILD_AGE:
        violations.append(Violation("birth-date-too-old", "birth_date",
                                    f"Children older than {MAX_CHILD_AGE} are not registered here: check the year."))
    if child.school is not None and len(child.school) > MAX_TEXT_LENGTH:
        violations.append(_too_long("school"))
    if child.school_arrondissement is not None and child.school_arrondissement not in PARIS_ARRONDISSEMENTS:
        violations.append(_arrondissement_violation("school_arrondissement"))
    return violations


def _refuse_duplicate(others: Iterable[Child], child: Child) -> None:
    existing = next((other for other in others if other.same_person_as(child)), None)
    if existing is not None:
        raise DuplicateChild(existing)


def _normalised(child: Child) -> Child:
    return replace(child, first_name=_single_spaced(child.first_name), last_name=_single_spaced(child.last_name),
                   school=_optional_text(child.school))


def _single_spaced(text: str) -> str:
    return " ".join(text.split())


def _optional_text(text: str | None) -> str | None:
    """Blank is the same as not given."""
    if text is None:
        return None
    return _single_spaced(text) or None


def _comparable(name: str) -> str:
    return _single_spaced(name).casefold()


def _arrondissement_violation(field: str) -> Violation:
    return Violation("arrondissement-unknown", field,
                     f"Paris arrondissements are {PARIS_ARRONDISSEMENTS[0]} to {PARIS_ARRONDISSEMENTS[-1]}.")


def _too_long(field: str) -> Violation:
    return Violation("too-long", field, f"At most {MAX_TEXT_LENGTH} characters.")


def _raise_if_any(violations: list[Violation]) -> None:
    if violations:
        raise HouseholdInvalid(violations)
