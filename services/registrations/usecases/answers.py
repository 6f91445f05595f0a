"""A parent's answers about their own application: withdraw it, accept or decline the place offered.

Each is one transaction (the ledger's row locked, its transition and its outbox event); once the
ledger let the application go, intake's guard frees the child and mirrors the counters.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from services.registrations.domain.applications import (
    ApplicationStatus,
    TransitionRefused,
    WithdrawalRefused,
    check_offer_open,
    check_withdrawal,
)
from services.registrations.store.campaign_directory import offer_last_day
from services.registrations.store.events import offer_answered_event, withdrawn_event
from services.registrations.store.intake_guard import IntakeGuard
from services.registrations.store.ledger import application_view, counted_position, locked, transition
from services.registrations.store.tables import outbox
from shared.clock import Clock
from shared.outbox import record_event


def withdraw(engine: Engine, family_account: str, application_id: UUID, now: datetime) -> dict[str, Any]:
    """Returns the row as it was. Raises `ApplicationNotFound` (not the family's), `WithdrawalRefused`
    (`WithdrawalAfterActivity` once the place's activity has ended)."""
    with engine.begin() as connection:
        before = locked(connection, application_id, family_account)
        try:
            check_withdrawal(ApplicationStatus(before["status"]),
                             offer_last_day(connection, before["campaign_id"], before.get("placed_offer_id")), now)
        except WithdrawalRefused:
            raise
        except TransitionRefused as refused:
            raise WithdrawalRefused(refused.current, refused.wanted) from refused
        transition(connection, before, ApplicationStatus.WITHDRAWN, "withdrawn by the parent")
        record_event(connection, outbox, withdrawn_event(application_id, before["campaign_id"], family_account,
                                                         before["status"], now), key=str(before["campaign_id"]))
        return before


def answer_offer(engine: Engine, family_account: str, application_id: UUID, accept: bool, now: datetime) -> dict[str, Any]:
    """The parent accepts or declines the place offered, before its deadline. Returns the row as it was."""
    wanted = ApplicationStatus.CONFIRMED if accept else ApplicationStatus.DECLINED
    with engine.begin() as connection:
        row = locked(connection, application_id, family_account)
        check_offer_open(row["status"], row["offer_expires_at"], now)
        transition(connection, row, wanted, "accepted by the parent" if accept else "declined by the parent")
        record_event(connection, outbox, offer_answered_event(accept, application_id, row["campaign_id"], family_account,
                                                              row["placed_offer_id"], now),
                     key=str(row["campaign_id"]))
        return row


@dataclass(frozen=True)
class Answers:
    """The answers as the parents' API gives them: by the process's clock, the guard kept in step."""
    engine: Engine
    guard: IntakeGuard
    clock: Clock

    def withdraw(self, family_account: str, application_id: UUID) -> dict[str, Any] | None:
        self._left(withdraw(self.engine, family_account, application_id, self.clock()))
        return application_view(self.engine, application_id, family_account)

    def answer(self, family_account: str, application_id: UUID, accept: bool) -> dict[str, Any] | None:
        before = answer_offer(self.engine, family_account, application_id, accept, self.clock())
        if not accept:
            self._left(before)
        return application_view(self.engine, application_id, family_account)

    def _left(self, before: dict[str, Any]) -> None:
        """After the ledger let the application go: free the child's guard and mirror the counters."""
        offer_id, had_place = counted_position(before)
        self.guard.leave(before["campaign_id"], before["child_id"], before["application_id"], offer_id, had_place)
