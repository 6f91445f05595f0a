"""Explanations as a draw stores them, and as a parent reads them (issue 18).

A published draw stores each application's explanation without its offers' cutoffs: every application not
admitted at an offer had to beat the same last admitted, so the draw stores each offer's cutoffs once (with its
run) and each application's choices as rows of `CHOICE_FIELDS`. Repeated 100,000 times, the cutoffs were most of
the 120 MB of a large draw's explanations. `rendered` gives back the very document the draw used to store;
explanations stored whole (draws published before, decisions made on arrival) have `offers` and read as they are.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# One choice of a compact explanation, in this order; the document's offer adds its `cutoffs`.
CHOICE_FIELDS = ("offer_id", "rank", "tier", "criteria_met", "standing", "waitlist_position")
NOT_ADMITTED = "not_admitted"  # Standing.NOT_ADMITTED: only these choices show their offer's cutoffs


def is_compact(stored: Mapping[str, Any]) -> bool:
    return "choices" in stored


def offers_needing_cutoffs(stored: Mapping[str, Any]) -> list[str]:
    """The offers whose cutoffs rendering `stored` reads (none for an explanation stored whole)."""
    if not is_compact(stored):
        return []
    return [choice[0] for choice in stored["choices"] if choice[4] == NOT_ADMITTED]


def rendered(stored: Mapping[str, Any], cutoffs: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The explanation document of `stored`, given the cutoffs of (at least) the offers it was not admitted at;
    an explanation stored whole is returned as it is."""
    if not is_compact(stored):
        return dict(stored)
    offers = []
    for offer_id, rank, tier, criteria_met, standing, waitlist_position in stored["choices"]:
        offers.append({"offer_id": offer_id, "rank": rank, "tier": tier, "criteria_met": list(criteria_met),
                       "standing": standing, "waitlist_position": waitlist_position,
                       "cutoffs": list(cutoffs.get(offer_id, ())) if standing == NOT_ADMITTED else []})
    return {"tie_break_kind": stored["tie_break_kind"], "lottery_number": stored["lottery_number"],
            "arrival_rank": stored["arrival_rank"], "tickets": stored["tickets"],
            "sibling_group": list(stored["sibling_group"]), "offers": offers,
            "decided_on_arrival": stored["decided_on_arrival"]}


def tier_at(stored: Mapping[str, Any], offer_id: str | None) -> int | None:
    """The tier at `offer_id`, or at the first eligible choice; None when no choice was eligible. Either form."""
    if is_compact(stored):
        rows = [(choice[0], choice[2]) for choice in stored["choices"]]
    else:
        rows = [(offer["offer_id"], offer["tier"]) for offer in stored["offers"]]
    if offer_id is not None:
        rows = [row for row in rows if row[0] == str(offer_id)]
    return rows[0][1] if rows else None
