"""Broken business rules, reported with a stable code, the field they concern and a message.

Codes (`window.closes_before_opens`) are the contract with API clients and never change wording.
Field paths are relative to the object being written, dotted with list indexes as segments
(`opens_at`, `policy.reserved_shares.0.share`, `children.1.birth_date`): the form the web layer's
`shared.errors.field_error` turns into a JSON pointer.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Violation:
    code: str
    field: str
    message: str
    offer_id: UUID | None = None  # the offer a choice broke a rule of, when there is one

    def under(self, prefix: str) -> Violation:
        """The same violation seen from the enclosing object (`capacity` -> `offers.1.capacity`)."""
        return Violation(self.code, f"{prefix}.{self.field}" if self.field else prefix, self.message, self.offer_id)


class RuleViolation(Exception):
    """One or more broken rules, raised together so a form can show every problem at once."""

    def __init__(self, violations: Iterable[Violation]):
        self.violations = tuple(violations)
        if not self.violations:
            raise ValueError(f"{type(self).__name__} needs at least one violation")
        super().__init__("; ".join(f"{v.field}: {v.message} [{v.code}]" for v in self.violations))

    @classmethod
    def single(cls, code: str, field: str, message: str) -> RuleViolation:
        return cls([Violation(code, field, message)])

    @property
    def codes(self) -> list[str]:
        return [v.code for v in self.violations]


def raise_if_any(violations: Iterable[Violation]) -> None:
    found = list(violations)
    if found:
        raise RuleViolation(found)


def nested(violations: Iterable[Violation], prefix: str) -> list[Violation]:
    return [v.under(prefix) for v in violations]
