"""An agent validates a household fact from a supporting document (issue 16, item 4): the household's value becomes
the value validated, in force from the effective date; `household.fact_validated` goes to the outbox and one entry
(before → after, the reason) to the family's audit chain, all in one transaction, then the household is written
through to the Redis copy intake reads, so the family's next application carries the fact as validated.

Validating again the same value from the same document and date changes nothing: no event, no entry."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from services.registrations.domain.facts import FactValidated, FactValidation, declared_value, validate_fact
from services.registrations.domain.household import Household, declared
from services.registrations.store.audit import record_family_change
from services.registrations.store.documents import family_document
from services.registrations.store.events import SOURCE
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.households import load_household, save_household
from services.registrations.store.tables import outbox
from shared.audit import Actor
from shared.clock import Clock
from shared.db import transaction
from shared.domain.paris import paris_day
from shared.events import Event, make_event
from shared.outbox import record_event


class UnknownDocument(Exception):
    """The validation names a document the family does not have (a field of the request, not the resource)."""

    def __init__(self, document_id: UUID):
        super().__init__("The family has no document with this id: upload it first.")
        self.document_id = document_id


@dataclass(frozen=True)
class ValidationAsked:
    fact: str
    value: Any
    effective_from: date
    document_id: UUID
    child_id: UUID | None = None


@dataclass(frozen=True)
class FactValidations:
    engine: Engine
    reader: HouseholdReader
    clock: Clock

    def validate(self, actor: Actor, asked: ValidationAsked, reason: str) -> FactValidated:
        """`actor` is an agent acting for `actor.on_behalf_of`."""
        family_account = str(actor.on_behalf_of)
        if not reason.strip():
            raise ValueError("an agent acting for a family gives a reason")
        now = self.clock()
        with transaction(self.engine) as connection:
            household = declared(load_household(connection, family_account, for_update=True), family_account)
            if family_document(connection, family_account, asked.document_id) is None:
                raise UnknownDocument(asked.document_id)
            result = validate_fact(household, asked.fact, value=asked.value, effective_from=asked.effective_from,
                                   document_id=asked.document_id, validated_by=actor.subject, validated_at=now,
                                   today=paris_day(now), child_id=asked.child_id)
            if not result.changed:
                return result
            before = _fact(household, asked)
            saved = save_household(connection, result.household)
            record_event(connection, outbox, fact_validated(family_account, result.validation), key=family_account)
            record_family_change(connection, actor, "household.fact_validate", "household", family_account, before,
                                 _fact(saved, asked, result.validation), now, reason=reason.strip())
        self.reader.write_through(saved)
        return FactValidated(saved, result.validation, changed=True)


def fact_validated(family_account: str, validation: FactValidation) -> Event:
    return make_event("household.fact_validated", source=SOURCE, subject=f"families/{family_account}", data={
        "family_account": family_account, "fact": validation.fact, "child_id": validation.child_id,
        "value": validation.value, "effective_from": validation.effective_from,
        "validated_at": validation.validated_at, "document_id": validation.document_id})


def _fact(household: Household, asked: ValidationAsked, validation: FactValidation | None = None) -> dict[str, Any]:
    """The fact as the audit trail compares it (checked by `validate_fact` first): its value and its validation."""
    validation = validation or next((v for v in household.validations if v.key == (asked.fact, asked.child_id)),
                                    None)
    return {"fact": asked.fact, "child_id": asked.child_id,
            "value": declared_value(household, asked.fact, asked.child_id),
            "status": "validated" if validation is not None else "declared",
            "effective_from": None if validation is None else validation.effective_from,
            "document_id": None if validation is None else validation.document_id}
