"""A family changes an application's ranked choices (and the siblings it is kept with) before the close.

One transaction: the ledger's row locked, the rules checked (the window by the server's clock, the campaign's
mode, the status, the choices as at intake), the new choices written with a history entry, and
`application.choices_changed` in the outbox, from which allocation updates its copy, and one entry on the family's
audit chain (the choices and siblings before → after). The application keeps its
id, arrival position and draw line: a replacement in place, never a withdrawal and a new application.

The same choices again change nothing (no history entry, no event): a retry with a new Idempotency-Key, after a
first attempt whose answer was lost, answers the stored application.

Intake's Redis guard holds nothing that depends on choices for the campaigns that allow the change (a lottery
campaign's guard entry is the child's active application, without offer): it is left as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from services.registrations.domain.applications import ApplicationInvalid, check_choices, check_window
from services.registrations.domain.choices import CHOICES_CHANGED, check_choices_changeable, sibling_violations
from services.registrations.store.audit import family_itself, record_family_change
from services.registrations.store.campaign_directory import CampaignDirectory
from services.registrations.store.events import SOURCE
from services.registrations.store.ledger import application_view, family_campaign_statuses, locked, replace_choices
from services.registrations.store.tables import outbox
from services.registrations.usecases.intake import UnknownCampaign
from shared.audit import Actor
from shared.clock import Clock
from shared.events import Event, make_event
from shared.outbox import record_event


@dataclass(frozen=True)
class NewChoices:
    choices: list[UUID]
    keep_with_applications: list[UUID] | None = None  # None: the siblings kept with stay as they are


def choices_changed_event(row: dict[str, Any], choices: list[UUID], keep_with: list[UUID], at: datetime) -> Event:
    return make_event("application.choices_changed", source=SOURCE, subject=f"applications/{row['application_id']}",
                      data={"application_id": row["application_id"], "campaign_id": row["campaign_id"],
                            "family_account": row["family_account"], "choices": choices,
                            "keep_with_applications": keep_with, "previous_choices": row["choices"], "at": at})


def change_choices(engine: Engine, campaigns: CampaignDirectory, family_account: str, application_id: UUID,
                   wanted: NewChoices, now: datetime, actor: Actor | None = None) -> bool:
    """True when the choices changed, False when they already were these. Raises `ApplicationNotFound` (not the
    family's), `UnknownCampaign`, `WindowClosed`, `ChoicesFixed` (first-come campaign, or decided),
    `ApplicationInvalid` (choices or siblings, one violation per field)."""
    with engine.begin() as connection:
        row = locked(connection, application_id, family_account)
        campaign = campaigns.get(row["campaign_id"])
        if campaign is None:
            raise UnknownCampaign(row["campaign_id"])
        check_window(campaign, now)
        check_choices_changeable(campaign, row["status"])
        check_choices(campaign, _birth_date(row), wanted.choices, row["sworn_statement"])
        keep_with = row["keep_with_applications"] if wanted.keep_with_applications is None \
            else wanted.keep_with_applications
        if keep_with != row["keep_with_applications"]:
            violations = sibling_violations(application_id, keep_with, family_campaign_statuses(
                connection, family_account, row["campaign_id"]))
            if violations:
                raise ApplicationInvalid(violations)
        if wanted.choices == row["choices"] and keep_with == row["keep_with_applications"]:
            return False
        actor = actor or family_itself(family_account)
        replace_choices(connection, row, wanted.choices, keep_with, CHOICES_CHANGED, actor)
        record_event(connection, outbox, choices_changed_event(row, wanted.choices, keep_with, now),
                     key=str(row["campaign_id"]))
        record_family_change(connection, actor, "application.change_choices", "application", str(application_id),
                             {"choices": row["choices"], "keep_with_applications": row["keep_with_applications"]},
                             {"choices": wanted.choices, "keep_with_applications": keep_with}, now,
                             family_account=family_account)
        return True


def _birth_date(row: dict[str, Any]) -> date:
    """The child's birth date as the application recorded it at intake."""
    return date.fromisoformat(row["child"]["birth_date"])


@dataclass(frozen=True)
class ChoiceChanges:
    """The change as the API makes it: by the process's clock, answering the application as stored."""
    engine: Engine
    campaigns: CampaignDirectory
    clock: Clock

    def change(self, family_account: str, application_id: UUID, wanted: NewChoices, *,
               actor: Actor | None = None) -> dict[str, Any] | None:
        change_choices(self.engine, self.campaigns, family_account, application_id, wanted, self.clock(), actor)
        return application_view(self.engine, application_id, family_account)
