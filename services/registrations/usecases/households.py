"""A family's household changes: each one applies a domain change to the stored household (its row locked
meanwhile) in one transaction, then writes the result through to the Redis copy intake reads. The parent makes
them, or a city agent on the family's behalf (issue 16) with a reason; each leaves one entry on the family's audit
chain in the same transaction (who, on whose behalf, the facts or the child before → after; docs/audit.md).

"Today" is the Paris day of the process's clock: birth and justification dates are days of the Paris
calendar, not of the server's time zone.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine

from services.registrations.domain.household import (
    Child,
    Household,
    add_child,
    change_child,
    declared,
    remove_child,
    with_facts,
)
from services.registrations.store.audit import family_itself, record_family_change
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.households import load_household, save_household
from shared.audit import Actor
from shared.clock import Clock
from shared.db import transaction
from shared.domain.paris import paris_day


@dataclass(frozen=True)
class HouseholdChanges:
    engine: Engine
    reader: HouseholdReader
    clock: Clock

    def declare(self, family_account: str, facts: dict[str, Any],
                check: Callable[[Household | None], None] = lambda current: None, *,
                actor: Actor | None = None) -> Household:
        """Create the household, or replace its facts (children kept). `check` sees the stored one first
        (the web layer compares its version with the parent's If-Match there)."""
        return self._commit(family_account, self._facts_replaced(family_account, facts, check),
                            _facts_audit(actor or family_itself(family_account), family_account, self.clock))

    def correct_for_family(self, actor: Actor, facts: dict[str, Any], reason: str,
                           check: Callable[[Household | None], None] = lambda current: None) -> Household:
        """An agent declares or corrects the household of `actor.on_behalf_of` (children kept), under the parent's
        rules, with one audit entry (before → after, and the reason) in the change's transaction."""
        family_account = str(actor.on_behalf_of)
        if not reason.strip():
            raise ValueError("an agent acting for a family gives a reason")
        return self._commit(family_account, self._facts_replaced(family_account, facts, check),
                            _facts_audit(actor, family_account, self.clock, reason.strip()))

    def add_child(self, family_account: str, child: Child, *, actor: Actor | None = None) -> Household:
        return self._commit(family_account, lambda current: add_child(declared(current, family_account), child, self._today()),
                            self._child_audit(actor or family_itself(family_account), "child.add", child.child_id))

    def change_child(self, family_account: str, child_id: UUID, *, actor: Actor | None = None,
                     **changes: Any) -> Household:
        return self._commit(family_account, lambda current: change_child(declared(current, family_account), child_id,
                                                                    self._today(), **changes),
                            self._child_audit(actor or family_itself(family_account), "child.change", child_id))

    def remove_child(self, family_account: str, child_id: UUID, *, actor: Actor | None = None) -> Household:
        return self._commit(family_account, lambda current: remove_child(declared(current, family_account), child_id),
                            self._child_audit(actor or family_itself(family_account), "child.remove", child_id))

    def _child_audit(self, actor: Actor, action: str,
                     child_id: UUID) -> Callable[[Connection, Household | None, Household], None]:
        """One entry for a change of one child: its fields before → after (none before an addition, none after a
        removal)."""
        def audit(connection: Connection, before: Household | None, after: Household) -> None:
            record_family_change(connection, actor, action, "child", str(child_id), _child_fields(before, child_id),
                                 _child_fields(after, child_id), self.clock(), family_account=after.family_account)
        return audit

    def _facts_replaced(self, family_account: str, facts: dict[str, Any],
                        check: Callable[[Household | None], None]) -> Callable[[Household | None], Household]:
        def replace_facts(current: Household | None) -> Household:
            check(current)
            return with_facts(current or Household(family_account), self._today(), **facts)
        return replace_facts

    def _commit(self, family_account: str, change: Callable[[Household | None], Household],
                audit: Callable[[Connection, Household | None, Household], None] | None = None) -> Household:
        """Apply `change` to the stored household (locked meanwhile), then write the result through to Redis."""
        with transaction(self.engine) as connection:
            before = load_household(connection, family_account, for_update=True)
            saved = save_household(connection, change(before))
            if audit is not None:
                audit(connection, before, saved)
        self.reader.write_through(saved)
        return saved

    def _today(self) -> date:
        return paris_day(self.clock())


def _facts_audit(actor: Actor, family_account: str, clock: Clock,
                 reason: str | None = None) -> Callable[[Connection, Household | None, Household], None]:
    """One entry for a declaration (none before) or a correction of the household's facts, with an agent's reason."""
    def audit(connection: Connection, before: Household | None, after: Household) -> None:
        action = "household.correct" if before is not None else "household.declare"
        record_family_change(connection, actor, action, "household", family_account, audited_facts(before),
                             audited_facts(after), clock(), reason=reason, family_account=family_account)
    return audit


def _child_fields(household: Household | None, child_id: UUID) -> dict[str, Any] | None:
    present = [child for child in (household.children if household else ()) if child.child_id == child_id]
    return asdict(present[0]) if present else None


def audited_facts(household: Household | None) -> dict[str, Any] | None:
    """A household's facts as the audit trail compares them (its children and version are not facts)."""
    if household is None:
        return None
    facts = asdict(household)
    del facts["children"], facts["version"], facts["family_account"]
    return facts
