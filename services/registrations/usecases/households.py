"""A parent's household changes: each one applies a domain change to the stored household (its row locked
meanwhile) in one transaction, then writes the result through to the Redis copy intake reads.

"Today" is the Paris day of the process's clock: birth and justification dates are days of the Paris
calendar, not of the server's time zone.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from services.registrations.domain.household import (
    Child,
    Household,
    add_child,
    change_child,
    declared,
    remove_child,
    with_facts,
)
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.households import load_household, save_household
from shared.clock import Clock
from shared.db import transaction
from shared.domain.paris import paris_day


@dataclass(frozen=True)
class HouseholdChanges:
    engine: Engine
    reader: HouseholdReader
    clock: Clock

    def declare(self, family_account: str, facts: dict[str, Any],
                check: Callable[[Household | None], None] = lambda current: None) -> Household:
        """Create the household, or replace its facts (children kept). `check` sees the stored one first
        (the web layer compares its version with the parent's If-Match there)."""
        def replace_facts(current: Household | None) -> Household:
            check(current)
            return with_facts(current or Household(family_account), self._today(), **facts)
        return self._commit(family_account, replace_facts)

    def add_child(self, family_account: str, child: Child) -> Household:
        return self._commit(family_account, lambda current: add_child(declared(current, family_account), child, self._today()))

    def change_child(self, family_account: str, child_id: UUID, **changes: Any) -> Household:
        return self._commit(family_account, lambda current: change_child(declared(current, family_account), child_id,
                                                                    self._today(), **changes))

    def remove_child(self, family_account: str, child_id: UUID) -> Household:
        return self._commit(family_account, lambda current: remove_child(declared(current, family_account), child_id))

    def _commit(self, family_account: str, change: Callable[[Household | None], Household]) -> Household:
        """Apply `change` to the stored household (locked meanwhile), then write the result through to Redis."""
        with transaction(self.engine) as connection:
            saved = save_household(connection, change(load_household(connection, family_account, for_update=True)))
        self.reader.write_through(saved)
        return saved

    def _today(self) -> date:
        return paris_day(self.clock())
