"""A campaign as allocation knows it: the latest `campaign.*` snapshot, read as the core's inputs."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from services.allocation.domain import CampaignPolicy, Offer, PriorityCriterion, ReservedShare
from shared.domain.policy import AllocationMode


@dataclass(frozen=True)
class CampaignCopy:
    campaign_id: UUID
    version: int
    snapshot: Mapping[str, Any]  # the event's data, in its JSON form
    closed_at: datetime | None

    @property
    def mode(self) -> AllocationMode:
        return AllocationMode(self.snapshot["policy"]["mode"])

    @property
    def first_come(self) -> bool:
        return self.mode == AllocationMode.FIRST_COME

    @property
    def title(self) -> str:
        return self.snapshot["title"]

    @property
    def reference_date(self) -> date:
        return date.fromisoformat(self.snapshot["reference_date"])

    def policy(self) -> CampaignPolicy:
        policy = self.snapshot["policy"]
        return CampaignPolicy(
            mode=self.mode,
            criteria=tuple(_criterion(criterion) for criterion in policy["criteria"]),
            lottery_weight_per_unsuccessful_year=policy["lottery_weight_per_unsuccessful_year"],
            keep_siblings_together=policy["keep_siblings_together"],
            # The contract carries shares as JSON numbers; the core reads a float as the decimal it prints as.
            reserved_shares=tuple(ReservedShare(_criterion(reserved["criterion"]), reserved["share"])
                                  for reserved in policy["reserved_shares"]),
            max_choices=self.snapshot["max_choices"],
        )

    def offers(self) -> list[Offer]:
        return [Offer(offer["offer_id"], offer["capacity"], offer["arrondissement"], offer["min_age"], offer["max_age"],
                      offer["waitlist_limit"]) for offer in self.snapshot["offers"]]

    def offer(self, offer_id: UUID | str) -> Mapping[str, Any]:
        """The offer's snapshot: title, dates, capacity, tariffs…"""
        wanted = str(offer_id)
        return next(offer for offer in self.snapshot["offers"] if offer["offer_id"] == wanted)

    def capacity(self, offer_id: UUID | str) -> int:
        return self.offer(offer_id)["capacity"]

    def acceptance_deadline(self, offered_at: datetime) -> datetime:
        """Real elapsed hours, like the campaigns service counts them."""
        return offered_at + timedelta(hours=self.snapshot["policy"]["acceptance_delay_hours"])


def _criterion(document: Mapping[str, Any]) -> PriorityCriterion:
    return PriorityCriterion(document["name"], document.get("max_tranche"))
