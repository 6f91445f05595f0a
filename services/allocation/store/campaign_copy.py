"""A campaign as allocation knows it: the latest `campaign.*` snapshot, read as the core's inputs."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any
from uuid import UUID

from services.allocation.domain import CampaignPolicy, Offer, PriorityCriterion, ReservedShare, terms
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
    def kind(self) -> str:
        return self.snapshot["kind"]

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
            # Issue 16; a snapshot from before the setting carries none: declared facts count.
            requires_validated_facts=policy.get("requires_validated_facts", False),
        )

    def offers(self) -> list[Offer]:
        return [Offer(offer["offer_id"], offer["capacity"], offer["arrondissement"], offer["min_age"], offer["max_age"],
                      offer["waitlist_limit"]) for offer in self.snapshot["offers"]]

    def offer(self, offer_id: UUID | str) -> Mapping[str, Any]:
        """The offer's snapshot: title, dates, capacity, tariffs…"""
        return self._offers_by_id[str(offer_id)]

    @cached_property
    def _offers_by_id(self) -> dict[str, Mapping[str, Any]]:
        return {offer["offer_id"]: offer for offer in self.snapshot["offers"]}

    def capacity(self, offer_id: UUID | str) -> int:
        return self.offer(offer_id)["capacity"]

    def acceptance_deadline(self, offered_at: datetime, offer_id: UUID | str | None = None) -> datetime:
        """Real elapsed hours, like the campaigns service counts them; for an offer, capped before its
        activity starts (the campaign's acceptance margin, domain.terms)."""
        deadline = offered_at + timedelta(hours=self.snapshot["policy"]["acceptance_delay_hours"])
        return deadline if offer_id is None else min(deadline, self.acceptance_cutoff(offer_id))

    def acceptance_cutoff(self, offer_id: UUID | str) -> datetime:
        """The latest deadline a place of this offer may have (a draw asks 100,000 times: kept per offer)."""
        return self._cutoffs[str(offer_id)]

    @cached_property
    def _cutoffs(self) -> dict[str, datetime]:
        return {offer["offer_id"]: terms.acceptance_cutoff(date.fromisoformat(offer["starts_on"]),
                                                           self.acceptance_margin_hours)
                for offer in self.snapshot["offers"]}

    # Lifecycle terms (issue 18); snapshots from before them carry none: the contract's defaults.
    @property
    def acceptance_margin_hours(self) -> int:
        return self.snapshot["policy"].get("acceptance_margin_hours", 24)

    @property
    def waitlist_closes_at(self) -> datetime | None:
        return _instant(self.snapshot.get("waitlist_closes_at"))

    @property
    def free_withdrawal_until(self) -> datetime | None:
        return _instant(self.snapshot.get("free_withdrawal_until"))

    @property
    def late_withdrawal_fee_cents(self) -> int | None:
        return self.snapshot.get("late_withdrawal_fee_cents")

    @property
    def publication_needs_second_manager(self) -> bool:
        """Four eyes; a snapshot from before the setting carries none, and was published without it."""
        return self.snapshot.get("publication_needs_second_manager", False)

    def starts_on(self, offer_id: UUID | str) -> date:
        return date.fromisoformat(self.offer(offer_id)["starts_on"])

    def ends_on(self, offer_id: UUID | str) -> date:
        return date.fromisoformat(self.offer(offer_id)["ends_on"])


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _criterion(document: Mapping[str, Any]) -> PriorityCriterion:
    return PriorityCriterion(document["name"], document.get("max_tranche"))
