"""From stored application rows (the facts of `application.received`) to the allocation core's `Application`s.

Sibling groups: a child's `keep_with_applications` names siblings' applications. Any reference,
in either direction, between two applications of the same family account links them, and linked
applications form one group (its key: the lowest application id). References to applications of
another family, or not among those allocated (withdrawn, unknown), are ignored.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from services.allocation.domain import Application, Facts
from services.allocation.domain.model import NONE_VALIDATED
from shared.domain.ages import age_on


@dataclass(frozen=True)
class FamilyHistory:
    """What allocation's own records of earlier campaigns of the same kind say of a child."""
    unsuccessful_earlier_campaigns: int = 0
    not_placed_previous_campaign: bool = False


NO_HISTORY = FamilyHistory()
_new = object.__new__


def domain_application(row: Mapping[str, Any], reference_date: date, history: FamilyHistory = NO_HISTORY,
                       sibling_group: UUID | None = None) -> Application:
    """`row`: as store.repository.active_applications reads it."""
    return Application(**ApplicationReader(reference_date).fields(row, history, sibling_group))


class ApplicationReader:
    """`domain_application` for every row of a draw, sharing what rows share: the 1,000 offer ids' text among
    300,000 choices, the ages of the few distinct birth dates, and one `Facts` per distinct set of facts
    (frozen, so shared safely). Building each anew was most of reading a 100,000-application draw's inputs."""

    def __init__(self, reference_date: date):
        self.reference_date = reference_date
        self._ages: dict[str, int] = {}
        self._texts: dict[UUID, str] = {}
        self._facts: dict[tuple, Facts] = {}

    def application(self, row: Mapping[str, Any], history: FamilyHistory = NO_HISTORY,
                    sibling_group: UUID | str | None = None) -> Application:
        """`domain_application`'s, made without `Application.__init__`: the fields it would set, its one check (no
        negative age) made by `fields` once per birth date. The frozen class's __init__ sets each field through
        object.__setattr__, about three times the rest of reading a row (a test compares both)."""
        application = _new(Application)
        application.__dict__.update(self.fields(row, history, sibling_group))
        return application

    def fields(self, row: Mapping[str, Any], history: FamilyHistory = NO_HISTORY,
               sibling_group: UUID | str | None = None) -> dict[str, Any]:
        birth_date = row["birth_date"]
        age = self._ages.get(birth_date)
        if age is None:
            age = age_on(date.fromisoformat(birth_date), self.reference_date)
            if age < 0:
                raise ValueError(f"application {row['application_id']}: negative age")
            self._ages[birth_date] = age
        texts = self._texts
        return {
            "application_id": str(row["application_id"]),
            "child_id": str(row["child_id"]),
            "family_account": row["family_account"],
            "age_at_reference_date": age,
            "choices": tuple([texts.get(offer_id) or texts.setdefault(offer_id, str(offer_id))
                              for offer_id in row["choices"]]),
            "facts": self._facts_of(row, history),
            "arrival_position": row["arrival_position"],
            "sibling_group_id": None if sibling_group is None else str(sibling_group),
        }

    def _facts_of(self, row: Mapping[str, Any], history: FamilyHistory) -> Facts:
        # The facts an agent validated (issue 16): none in events from before them.
        validated = row.get("validated_facts") or NONE_VALIDATED
        # Each column has one type (bool, int or None), so equal keys are equal facts.
        key = (row["single_parent"], row["quotient_tranche"], row["disability_allowance"],
               row["residence_arrondissement"], history, tuple(validated))
        facts = self._facts.get(key)
        if facts is None:
            facts = self._facts[key] = Facts(
                single_parent=row["single_parent"],
                quotient_tranche=row["quotient_tranche"],
                disability_allowance=row["disability_allowance"],
                residence_arrondissement=row["residence_arrondissement"],
                unsuccessful_earlier_years=history.unsuccessful_earlier_campaigns,
                not_placed_previous_campaign=history.not_placed_previous_campaign,
                validated=frozenset(validated),
            )
        return facts


def sibling_groups(rows: Iterable[Mapping[str, Any]]) -> dict[Any, Any]:
    """Application id → its group's key, for applications linked to at least one sibling. Ids as the rows give them
    (UUIDs, or their text: the same order)."""
    rows = list(rows)
    family_of = {row["application_id"]: row["family_account"] for row in rows}
    parent: dict[Any, Any] = {}  # only the applications linked so far; any other is its own root

    def root(application_id: Any) -> Any:
        while (up := parent.get(application_id, application_id)) != application_id:
            parent[application_id] = application_id = parent.get(up, up)
        return application_id

    for row in rows:
        for sibling in row["keep_with_applications"]:
            if family_of.get(sibling) == row["family_account"]:
                first, second = sorted((root(row["application_id"]), root(sibling)))
                parent.setdefault(first, first)
                parent[second] = first  # the lower id stays the root: it is the group's key
    groups = {application_id: root(application_id) for application_id in parent}
    sizes: dict[Any, int] = {}
    for key in groups.values():
        sizes[key] = sizes.get(key, 0) + 1
    return {application_id: key for application_id, key in groups.items() if sizes[key] > 1}
