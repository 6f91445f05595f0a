"""A campaign's status, derived from its publication, its window and the instant asked about,
and the window transitions a scheduler has to announce."""
from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from services.campaigns.domain.model import Campaign, CampaignStatus
from services.campaigns.domain.paris_time import require_aware
from shared.domain.violations import RuleViolation


def status_at(campaign: Campaign, now: datetime) -> CampaignStatus:
    require_aware(now, "now")
    if campaign.archived_at is not None:
        return CampaignStatus.ARCHIVED
    if campaign.allocated_at is not None:
        return CampaignStatus.ALLOCATED
    if campaign.published_at is None:
        return CampaignStatus.DRAFT
    if now < campaign.opens_at:
        return CampaignStatus.SCHEDULED
    if now < campaign.effective_closes_at:
        return CampaignStatus.OPEN
    return CampaignStatus.CLOSED


def has_opened(campaign: Campaign, now: datetime) -> bool:
    """Families may have applied: what they applied on must no longer change under them."""
    return status_at(campaign, now) not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)


class TransitionKind(StrEnum):
    OPENED = "opened"
    CLOSED = "closed"


@dataclass(frozen=True)
class Transition:
    campaign_id: str
    kind: TransitionKind
    at: datetime

    @property
    def key(self) -> str:
        """Unique per campaign, kind and instant: moving a window before it happens yields a new key,
        so the scheduler announces the instant that really happened, once."""
        instant = self.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return f"{self.campaign_id}:{self.kind}:{instant}"

    @property
    def event_type(self) -> str:
        return f"campaign.{self.kind}"


def due_transitions(campaign: Campaign, now: datetime, already_emitted: Set[str]) -> list[Transition]:
    """Window transitions that have happened by `now` and are not in `already_emitted`, oldest first.

    A scheduler that was down across a whole window gets both, in order; one that restarts with
    the keys it stored gets nothing twice. Drafts and archived campaigns have nothing to announce.
    """
    require_aware(now, "now")
    if campaign.published_at is None or campaign.archived_at is not None:
        return []
    window = (
        Transition(campaign.id, TransitionKind.OPENED, campaign.opens_at),
        Transition(campaign.id, TransitionKind.CLOSED, campaign.effective_closes_at),
    )
    return [t for t in window if t.at <= now and t.key not in already_emitted]


def require_status(
    campaign: Campaign, now: datetime, allowed: Set[CampaignStatus], code: str, message: str, field: str = "status",
) -> CampaignStatus:
    status = status_at(campaign, now)
    if status not in allowed:
        raise RuleViolation.single(code, field, f"{message} (statut actuel : {status}).")
    return status
