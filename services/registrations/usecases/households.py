"""A family's household changes: each one applies a domain change to the stored household (its row locked
meanwhile) in one transaction, then writes the result through to the Redis copy intake reads. The parent makes
them, or a city agent on the family's behalf (issue 16) with a reason; each leaves one entry on the family's audit
chain in the same transaction (who, on whose behalf, the facts or the child before → after; docs/audit.md), and an
agent's change `household.corrected` in the outbox, from which notifications tells the family. The family reads
its history (`household_history`) from the same chain.

"Today" is the Paris day of the process's clock: birth and justification dates are days of the Paris
calendar, not of the server's time zone.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine

from services.registrations.domain.applications import AGENT_ROLE
from services.registrations.domain.household import (
    Child,
    Household,
    add_child,
    change_child,
    declared,
    remove_child,
    with_facts,
)
from services.registrations.store.audit import (
    PARENT_ROLE,
    family_entries_newest_first,
    family_itself,
    record_family_change,
)
from services.registrations.store.events import SOURCE
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.households import load_household, save_household
from services.registrations.store.tables import outbox
from shared.audit import Actor, AuditEntry
from shared.clock import Clock
from shared.db import transaction
from shared.domain.paris import paris_day
from shared.events import make_event
from shared.outbox import record_event


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
        rules, with one audit entry (before → after, and the reason) and `household.corrected` in the change's
        transaction."""
        family_account = str(actor.on_behalf_of)
        return self._commit(family_account, self._facts_replaced(family_account, facts, check),
                            _facts_audit(actor, family_account, self.clock, _agents_reason(reason)))

    def add_child(self, family_account: str, child: Child, *, actor: Actor | None = None, reason: str | None = None,
                  check: Callable[[Household | None], None] = lambda current: None) -> Household:
        """The parent's addition, or an agent's for the family (`reason` given, `check` sees the stored household
        first: the agent's If-Match)."""
        def added(current: Household | None) -> Household:
            check(current)
            return add_child(declared(current, family_account), child, self._today())
        return self._commit(family_account, added, self._child_audit(
            actor or family_itself(family_account), "child.add", child.child_id, reason))

    def change_child(self, family_account: str, child_id: UUID, *, actor: Actor | None = None,
                     reason: str | None = None, check: Callable[[Household | None], None] = lambda current: None,
                     **changes: Any) -> Household:
        def changed(current: Household | None) -> Household:
            check(current)
            return change_child(declared(current, family_account), child_id, self._today(), **changes)
        return self._commit(family_account, changed, self._child_audit(
            actor or family_itself(family_account), "child.change", child_id, reason))

    def remove_child(self, family_account: str, child_id: UUID, *, actor: Actor | None = None,
                     reason: str | None = None,
                     check: Callable[[Household | None], None] = lambda current: None) -> Household:
        def removed(current: Household | None) -> Household:
            check(current)
            return remove_child(declared(current, family_account), child_id)
        return self._commit(family_account, removed, self._child_audit(
            actor or family_itself(family_account), "child.remove", child_id, reason))

    def _child_audit(self, actor: Actor, action: str, child_id: UUID,
                     reason: str | None) -> Callable[[Connection, Household | None, Household], None]:
        """One entry for a change of one child: its fields before → after (none before an addition, none after a
        removal); an agent's change (with its reason) is announced too."""
        if actor.role == AGENT_ROLE:
            reason = _agents_reason(reason)

        def audit(connection: Connection, before: Household | None, after: Household) -> None:
            entry = record_family_change(connection, actor, action, "child", str(child_id),
                                         _child_fields(before, child_id), _child_fields(after, child_id), self.clock(),
                                         reason=reason, family_account=after.family_account)
            if reason is not None:
                _announce_correction(connection, after.family_account, entry, CHILD_CHANGES[action], child_id)
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
    """One entry for a declaration (none before) or a correction of the household's facts; an agent's (with its
    reason) is announced too."""
    def audit(connection: Connection, before: Household | None, after: Household) -> None:
        action = "household.correct" if before is not None else "household.declare"
        entry = record_family_change(connection, actor, action, "household", family_account, audited_facts(before),
                                     audited_facts(after), clock(), reason=reason, family_account=family_account)
        if reason is not None:
            _announce_correction(connection, family_account, entry, "facts", None)
    return audit


CHILD_CHANGES = {"child.add": "child_added", "child.change": "child_changed", "child.remove": "child_removed"}


def _agents_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise ValueError("an agent acting for a family gives a reason")
    return reason.strip()


def _announce_correction(connection: Connection, family_account: str, entry: AuditEntry, change: str,
                         child_id: UUID | None) -> None:
    """`household.corrected` beside the agent's audit entry, naming the fields it changed (never their values); an
    agent's change that changed no field (the same facts sent again) tells the family nothing."""
    fields = changed_names(entry.changes)
    if not fields:
        return
    record_event(connection, outbox, make_event(
        "household.corrected", source=SOURCE, subject=f"families/{family_account}", data={
            "family_account": family_account, "change": change, "child_id": child_id, "fields": fields,
            "reason": entry.changes["reason"]["after"], "at": entry.occurred_at}), key=family_account)


def changed_names(changes: Mapping[str, Any]) -> list[str]:
    """The fields an audit entry changed, by name (its reason is not a field)."""
    return sorted(name for name in changes if name != "reason")


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


# What a family's history shows of its audit chain: its household, its children and its documents (its
# applications have their own history, GET /applications/{id}).
HISTORY_TARGETS = ("household", "child", "document")


@dataclass(frozen=True)
class HistoryItem:
    """One change the family reads: when, what, by the family itself or by a city agent (never which one), the
    agent's reason, and the names of the fields changed (their values are in the household itself)."""
    seq: int
    at: datetime
    action: str
    target_type: str
    target_id: str
    by: str  # "family" or "agent"
    reason: str | None
    fields: list[str]
    # A child's name as the change itself recorded it (added, removed, renamed), so that a child no longer in the
    # household is still named; None for other changes and other targets.
    child_name: str | None = None


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    next_before: int | None  # the `before` of the next (older) page; None on the last one


def household_history(engine: Engine, family_account: str, *, before: int | None = None,
                      limit: int = 20) -> HistoryPage:
    """A page of the family's history, newest first: at most `limit` changes before position `before`."""
    with engine.connect() as connection:
        entries = family_entries_newest_first(connection, family_account, HISTORY_TARGETS, before_seq=before,
                                              limit=limit + 1)
    items = [history_item(entry) for entry in entries[:limit]]
    return HistoryPage(items, items[-1].seq if len(entries) > limit else None)


def history_item(entry: AuditEntry) -> HistoryItem:
    by_family = entry.actor_role == PARENT_ROLE
    reason = None if by_family else (entry.changes.get("reason") or {}).get("after")
    return HistoryItem(seq=entry.seq, at=entry.occurred_at, action=entry.action, target_type=entry.target_type,
                       target_id=entry.target_id, by="family" if by_family else "agent", reason=reason,
                       fields=changed_names(entry.changes),
                       child_name=_recorded_name(entry.changes) if entry.target_type == "child" else None)


def _recorded_name(changes: Mapping[str, Any]) -> str | None:
    """The child's names the change recorded: all of them for an addition or a removal, the new one for a renaming."""
    names = [(changes.get(field) or {}) for field in ("first_name", "last_name")]
    return " ".join(name for name in (n.get("after") or n.get("before") for n in names) if name) or None
