"""The core's answers as JSON documents: how decisions, explanations and statistics are stored and served.

Tie-breaks are written the way the draw bundle writes them: a lottery number as 64 hexadecimal
digits (`lottery_number`), an arrival rank as an integer (`arrival_rank`); the other key is null.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from services.allocation.domain import (
    AllocationResult,
    Explanation,
    Outcome,
    Reason,
    Status,
    TieBreak,
    WaitlistPosition,
    format_number,
)


def tie_break_document(kind: TieBreak, value: int | None) -> dict[str, Any]:
    lottery = kind == TieBreak.LOTTERY and value is not None
    return {"lottery_number": format_number(value) if lottery else None,
            "arrival_rank": value if kind == TieBreak.ARRIVAL else None}


def explanation_document(explanation: Explanation) -> dict[str, Any]:
    kind = explanation.tie_break_kind
    return {
        "tie_break_kind": str(kind),
        **tie_break_document(kind, explanation.tie_break),
        "tickets": explanation.tickets,
        "sibling_group": list(explanation.sibling_group),
        "offers": [{
            "offer_id": offer.offer_id, "rank": offer.rank, "tier": offer.tier,
            "criteria_met": list(offer.criteria_met), "standing": str(offer.standing),
            "waitlist_position": offer.waitlist_position,
            "cutoffs": [{"seats": cutoff.seats, "tier": cutoff.tier, **tie_break_document(kind, cutoff.tie_break)}
                        for cutoff in offer.cutoffs],
        } for offer in explanation.offers],
        "decided_on_arrival": False,
    }


def waitlist_document(waitlist: tuple[WaitlistPosition, ...]) -> list[dict[str, Any]]:
    return [{"offer_id": entry.offer_id, "position": entry.position} for entry in waitlist]


def reason_document(reason: Reason) -> dict[str, Any]:
    """`criterion` only for the reasons naming one (fact_not_validated): other documents stay as they were."""
    document = {"code": str(reason.code), "offer_id": reason.offer_id}
    if reason.criterion is not None:
        document["criterion"] = reason.criterion
    return document


def decision_document(outcome: Outcome) -> dict[str, Any]:
    """The columns of a `decisions` row, from the core's outcome."""
    return {
        "outcome": str(outcome.status),
        "offer_id": outcome.offer_id,
        "waitlist": waitlist_document(outcome.waitlist),
        "reasons": [reason_document(reason) for reason in outcome.reasons],
        "explanation": explanation_document(outcome.explanation),
    }


def tier_at(explanation: dict[str, Any], offer_id: str | None) -> int | None:
    """The tier at `offer_id`, or at the first eligible choice; None when no choice was eligible."""
    offers = explanation["offers"]
    if offer_id is not None:
        offers = [offer for offer in offers if offer["offer_id"] == str(offer_id)]
    return offers[0]["tier"] if offers else None


def statistics_document(result: AllocationResult) -> dict[str, Any]:
    statistics = result.statistics
    applications_by_tier, placed_by_first_tier = Counter(), Counter()
    for outcome in result.outcomes.values():
        first_tier = outcome.explanation.offers[0].tier if outcome.explanation.offers else None
        if first_tier is not None:
            applications_by_tier[first_tier] += 1
            placed_by_first_tier[first_tier] += outcome.status == Status.ALLOCATED
    return {
        "applications": statistics.applications,
        "allocated": statistics.allocated,
        "waitlisted": statistics.waitlisted,
        "rejected": statistics.rejected,
        "offers": [{
            "offer_id": offer.offer_id, "capacity": offer.capacity, "placed": offer.placed,
            "fill_rate": offer.fill_rate, "waitlist_length": offer.waitlist_length,
            "reserves": [{"criterion": reserve.criterion, "seats": reserve.seats, "taken": reserve.taken}
                         for reserve in offer.reserves],
        } for offer in statistics.offers],
        "tiers": [{"tier": tier, "applications": count, "placed": placed_by_first_tier[tier],
                   "placement_rate": placed_by_first_tier[tier] / count}
                  for tier, count in sorted(applications_by_tier.items())],
        "placed_by_tier_obtained": [{"tier": tier, "placed": placed}
                                    for tier, placed in statistics.placed_by_tier.items()],
    }
