"""A family's answers about its own application: withdraw it, accept or decline the place offered; made by the
parent, or by a city agent on the family's behalf (issue 16) with a reason.

Each is one transaction (the ledger's row locked, its transition naming who acted, its outbox event, and one entry
on the family's audit chain: the family's, or the agent's with its reason); once the ledger let the application go, intake's guard frees the
child and mirrors the counters.

An agent is held to the family's rules: the same state machine, the offer's deadline, the activity's end. No
campaign rule names an exception for agents today (docs/registrations.md#agents).

Accepting a place already confirmed, or declining one already declined, answers with the stored state and changes
nothing: a retry whose first attempt committed but lost its response (PostgreSQL restarting in between, the
idempotency key then abandoned) gets the same answer, not "no offer".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine

from services.registrations.domain.applications import (
    AGENT_ROLE,
    ApplicationStatus,
    TransitionRefused,
    WithdrawalRefused,
    check_offer_open,
    check_withdrawal,
)
from services.registrations.store.audit import family_itself, record_family_change
from services.registrations.store.campaign_directory import offer_last_day
from services.registrations.store.events import offer_answered_event, withdrawn_event
from services.registrations.store.intake_guard import IntakeGuard
from services.registrations.store.ledger import application_view, counted_position, locked, transition
from services.registrations.store.tables import outbox
from shared.audit import Actor
from shared.clock import Clock
from shared.outbox import record_event


@dataclass(frozen=True)
class Answered:
    """The application's row as it was before the answer, and whether this call moved it (False: it already was
    where the answer leads, and nothing was written)."""
    before: dict[str, Any]
    moved: bool = True


def parent(family_account: str) -> Actor:
    return family_itself(family_account)


def _for_agent(actor: Actor, reason: str | None) -> str | None:
    """The agent's reason (required: the family is shown it), or None when the family acts itself."""
    if actor.role != AGENT_ROLE:
        return None
    if not reason or not reason.strip():
        raise ValueError("an agent acting for a family gives a reason")
    return reason.strip()


def withdraw(engine: Engine, family_account: str, application_id: UUID, now: datetime, *,
             actor: Actor | None = None, reason: str | None = None, waive_late_fee: bool = False) -> dict[str, Any]:
    """Returns the row as it was. Raises `ApplicationNotFound` (not the family's), `WithdrawalRefused`
    (`WithdrawalAfterActivity` once the place's activity has ended). `actor`: the family itself by default, or an
    agent on its behalf, who gives `reason` and alone may waive a confirmed place's late fee."""
    actor = actor or parent(family_account)
    agent_reason = _for_agent(actor, reason)
    if waive_late_fee and agent_reason is None:
        raise ValueError("only an agent may waive a late withdrawal fee")
    with engine.begin() as connection:
        before = locked(connection, application_id, family_account)
        try:
            check_withdrawal(ApplicationStatus(before["status"]),
                             offer_last_day(connection, before["campaign_id"], before.get("placed_offer_id")), now)
        except WithdrawalRefused:
            raise
        except TransitionRefused as refused:
            raise WithdrawalRefused(refused.current, refused.wanted) from refused
        transition(connection, before, ApplicationStatus.WITHDRAWN, agent_reason or "withdrawn by the parent",
                   actor=actor)
        waived = waive_late_fee and before["status"] == ApplicationStatus.CONFIRMED
        record_event(connection, outbox, withdrawn_event(application_id, before["campaign_id"], family_account,
                                                         before["status"], now, agent_reason, late_fee_waived=waived),
                     key=str(before["campaign_id"]))
        _audit(connection, actor, "application.withdraw_waiving_late_fee" if waived else "application.withdraw",
               before, ApplicationStatus.WITHDRAWN, agent_reason, now)
        return before


def answer_offer(engine: Engine, family_account: str, application_id: UUID, accept: bool, now: datetime, *,
                 actor: Actor | None = None, reason: str | None = None) -> Answered:
    """The family (or an agent for it, with `reason`) accepts or declines the place offered, before its deadline.
    The same answer again, once recorded, moves nothing (`moved` False)."""
    actor = actor or parent(family_account)
    agent_reason = _for_agent(actor, reason)
    wanted = ApplicationStatus.CONFIRMED if accept else ApplicationStatus.DECLINED
    with engine.begin() as connection:
        row = locked(connection, application_id, family_account)
        if row["status"] == wanted:
            return Answered(row, moved=False)
        check_offer_open(row["status"], row["offer_expires_at"], now)
        transition(connection, row, wanted,
                   agent_reason or ("accepted by the parent" if accept else "declined by the parent"), actor=actor)
        record_event(connection, outbox, offer_answered_event(accept, application_id, row["campaign_id"], family_account,
                                                              row["placed_offer_id"], now, agent_reason),
                     key=str(row["campaign_id"]))
        _audit(connection, actor, "offer.accept" if accept else "offer.decline", row, wanted, agent_reason, now)
        return Answered(row)


def _audit(connection: Connection, actor: Actor, action: str, before: dict[str, Any], after: ApplicationStatus,
           agent_reason: str | None, now: datetime) -> None:
    """One entry on the family's audit chain: the status before → after, and an agent's reason."""
    record_family_change(connection, actor, action, "application", str(before["application_id"]),
                         {"status": before["status"]}, {"status": str(after)}, now, reason=agent_reason,
                         family_account=before["family_account"])


@dataclass(frozen=True)
class Answers:
    """The answers as the APIs give them: by the process's clock, the guard kept in step."""
    engine: Engine
    guard: IntakeGuard
    clock: Clock

    def withdraw(self, family_account: str, application_id: UUID, *, actor: Actor | None = None,
                 reason: str | None = None, waive_late_fee: bool = False) -> dict[str, Any] | None:
        self._left(withdraw(self.engine, family_account, application_id, self.clock(), actor=actor, reason=reason,
                            waive_late_fee=waive_late_fee))
        return application_view(self.engine, application_id, family_account)

    def answer(self, family_account: str, application_id: UUID, accept: bool, *, actor: Actor | None = None,
               reason: str | None = None) -> dict[str, Any] | None:
        answered = answer_offer(self.engine, family_account, application_id, accept, self.clock(), actor=actor,
                                reason=reason)
        if answered.moved and not accept:
            self._left(answered.before)
        return application_view(self.engine, application_id, family_account)

    def _left(self, before: dict[str, Any]) -> None:
        """After the ledger let the application go: free the child's guard and mirror the counters."""
        offer_id, had_place = counted_position(before)
        self.guard.leave(before["campaign_id"], before["child_id"], before["application_id"], offer_id, had_place)
