"""What an event tells the family it is about: the kind of notification it makes, if any.

Decisions and registrations are told; a parent's own answer (accepted, declined, withdrawn) is not,
since the parent acted in the portal; a duplicate refused at intake is a second copy of an
application already acknowledged. Subscribers hear of a campaign opening through their subscription
(`campaign_opened`), not through this table.
"""
from __future__ import annotations

from typing import Any

TOLD = {
    "waitlist.promoted": "place_offered",
    "offer.expired": "offer_expired",
    "registration.confirmed": "registration_confirmed",
    "registration.cancelled": "registration_cancelled",
    # A city agent changed the household, or validated one of its facts (issue 16): the family did not do it.
    "household.corrected": "household_corrected",
    "household.fact_validated": "fact_validated",
}

AGENT_ACTIONS = {
    "offer.accepted": "agent_accepted",
    "offer.declined": "agent_declined",
    "application.withdrawn": "agent_withdrew",
}


def kind_told(event_type: str, data: dict[str, Any]) -> str | None:
    """The kind of notification (a template name) `event_type` makes for its family, or None."""
    match event_type:
        case "application.received" if data["status"] != "received":
            return None
        case "application.received":
            # A city agent applied for the family: it is told who did, when and why, with its choices.
            return "agent_applied" if data.get("acted_by_agent") else "application_received"
        case "allocation.decided":
            return "place_offered" if data["outcome"] == "allocated" else data["outcome"]
        case "offer.accepted" | "offer.declined" | "application.withdrawn" if data.get("acted_by_agent"):
            # The family did not do it itself: it is told who did, when and why.
            return AGENT_ACTIONS[event_type]
    return TOLD.get(event_type)
