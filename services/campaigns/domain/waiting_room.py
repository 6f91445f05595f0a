"""A campaign's waiting room, as its managers set it (docs/registrations.md#the-waiting-room): registrations
runs the room; campaigns keeps the setting and announces it in every `campaign.*` snapshot.

On by default for first-come campaigns (whoever retries fastest would win the places), a manager's choice for
the others (`waiting_room`: None = the default, True or False = the manager's choice)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.policy import AllocationMode
from shared.domain.violations import Violation

if TYPE_CHECKING:
    from services.campaigns.domain.model import Campaign

DEFAULT_OPENS_BEFORE_MINUTES = 30
DEFAULT_ADMISSIONS_PER_MINUTE = 1200  # 20 families a second, a fifth of intake's measured capacity (~100/s)
MAX_OPENS_BEFORE_MINUTES = 24 * 60
MAX_ADMISSIONS_PER_MINUTE = 60_000


def room_enabled(campaign: Campaign) -> bool:
    if campaign.waiting_room is not None:
        return campaign.waiting_room
    return campaign.policy.mode is AllocationMode.FIRST_COME


def room_snapshot(campaign: Campaign) -> dict[str, Any]:
    """The `waiting_room` field of the campaign's snapshot (shared/contracts/campaigns.py)."""
    return {"enabled": room_enabled(campaign),
            "opens_before_minutes": campaign.waiting_room_opens_before_minutes,
            "admissions_per_minute": campaign.waiting_room_admissions_per_minute}


def room_violations(campaign: Campaign) -> list[Violation]:
    violations = []
    before = campaign.waiting_room_opens_before_minutes
    if not isinstance(before, int) or isinstance(before, bool) or not 0 <= before <= MAX_OPENS_BEFORE_MINUTES:
        violations.append(Violation("campaign.waiting_room_opens_before_out_of_range",
                                    "waiting_room_opens_before_minutes",
                                    f"La salle d'attente ouvre de 0 à {MAX_OPENS_BEFORE_MINUTES} minutes avant "
                                    "l'ouverture."))
    pace = campaign.waiting_room_admissions_per_minute
    if not isinstance(pace, int) or isinstance(pace, bool) or not 1 <= pace <= MAX_ADMISSIONS_PER_MINUTE:
        violations.append(Violation("campaign.waiting_room_pace_out_of_range", "waiting_room_admissions_per_minute",
                                    f"La salle d'attente admet de 1 à {MAX_ADMISSIONS_PER_MINUTE} familles par "
                                    "minute."))
    return violations
