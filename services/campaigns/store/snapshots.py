"""What the other services learn of a campaign: `campaign.*` events built from domain values.

A draft is nobody's business but its managers'; from publication on, every committed change is
announced with a full snapshot, and the scheduler announces the window's instants.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from services.campaigns.domain import Campaign, Transition, status_at
from services.campaigns.domain.waiting_room import room_snapshot
from shared.events import Event, make_event

SOURCE = "/guichet/campaigns"
SNAPSHOT_FIELDS = ("title", "kind", "opens_at", "reference_date", "max_choices", "policy",
                   "waitlist_closes_at", "free_withdrawal_until", "late_withdrawal_fee_cents",
                   "publication_needs_second_manager")


def campaign_snapshot(campaign: Campaign, version: int, now: datetime) -> dict[str, Any]:
    """The domain's names are the contract's, except the ids (`campaign_id`, `offer_id`). `closes_at` is
    the instant the window closes (exclusive: the end of the last minute the manager named, or an early
    close), so every consumer compares `now < closes_at` without knowing the minute rule."""
    values = asdict(campaign)
    return {
        "campaign_id": campaign.id,
        "version": version,
        "status": status_at(campaign, now),
        **{name: values[name] for name in SNAPSHOT_FIELDS},
        "closes_at": campaign.effective_closes_at,
        "offers": [{"offer_id": offer.pop("id"), **offer} for offer in values["offers"]],
        "waiting_room": room_snapshot(campaign),
    }


def change_event(before: Campaign | None, after: Campaign, version: int, now: datetime) -> Event | None:
    """`campaign.published` when a change publishes, `campaign.updated` for any later change."""
    if after.published_at is None:
        return None
    event_type = "campaign.updated" if before is not None and before.published_at is not None else "campaign.published"
    return make_event(event_type, source=SOURCE, subject=_subject(after.id),
                      data=campaign_snapshot(after, version, now), time=now)


def window_event(transition: Transition, version: int, now: datetime) -> Event:
    return make_event(transition.event_type, source=SOURCE, subject=_subject(transition.campaign_id),
                      data={"campaign_id": transition.campaign_id, "at": transition.at, "version": version}, time=now)


def _subject(campaign_id: str) -> str:
    return f"campaigns/{campaign_id}"
