"""Explanations a parent can read: where they stood at each offer and whom they had to beat."""
from __future__ import annotations

from typing import Mapping

from services.allocation.domain.deferred_acceptance import Matching
from services.allocation.domain.entrants import Entrant
from services.allocation.domain.lottery import format_number
from services.allocation.domain.model import CampaignPolicy
from services.allocation.domain.priorities import Proposer
from services.allocation.domain.result import (Cutoff, Explanation, OfferExplanation, Outcome, ReasonCode, Standing,
                                               Status, TieBreak)
from services.allocation.domain.seats import OPEN_SEATS, SeatPlan


def cutoffs(proposers: tuple[Proposer, ...], plans: Mapping[str, SeatPlan],
            matching: Matching) -> dict[str, tuple[Cutoff, ...]]:
    """Per offer, the last applicant admitted on each kind of seats: reserves first, then open."""
    by_id = {proposer.entrant_id: proposer for proposer in proposers}
    result = {}
    for offer_id, plan in plans.items():
        found = []
        for seat_kind in [block.criterion.label for block in plan.reserves] + [OPEN_SEATS]:
            holders = [by_id[entrant_id] for entrant_id, kind in matching.held[offer_id].items() if kind == seat_kind]
            if holders:
                last = max(holders, key=lambda holder: holder.order(offer_id))
                found.append(Cutoff(seat_kind, last.tiers[offer_id], last.entrant.tie_break))
        result[offer_id] = tuple(found)
    return result


def explanation(proposer: Proposer, application_id: str, policy: CampaignPolicy, tie_break_kind: TieBreak,
                matching: Matching, offer_cutoffs: Mapping[str, tuple[Cutoff, ...]],
                waitlists: Mapping[str, Mapping[str, int]]) -> Explanation:
    entrant = proposer.entrant
    assigned = matching.assignment.get(entrant.entrant_id)
    offers = []
    for offer_id in entrant.choices:
        if offer_id == assigned:
            standing = Standing.ADMITTED
        elif proposer.prefers(offer_id, assigned):
            standing = Standing.NOT_ADMITTED
        else:
            standing = Standing.NOT_NEEDED
        met = proposer.criteria[offer_id]
        offers.append(OfferExplanation(
            offer_id=offer_id, rank=entrant.rank(offer_id), tier=proposer.tiers[offer_id],
            criteria_met=tuple(criterion.label for criterion in policy.criteria_in_use if criterion in met),
            standing=standing,
            cutoffs=offer_cutoffs[offer_id] if standing == Standing.NOT_ADMITTED else (),
            waitlist_position=waitlists[offer_id].get(application_id)))
    return Explanation(tie_break_kind, entrant.tie_break, entrant.tickets, _group_ids(entrant), tuple(offers))


def _group_ids(entrant: Entrant) -> tuple[str, ...]:
    return tuple(member.application_id for member in entrant.members) if entrant.size > 1 else ()


_REASON_TEXT = {
    ReasonCode.NO_CHOICE: "no offer was chosen",
    ReasonCode.DUPLICATE_CHILD: "the child already has an earlier application in this campaign",
    ReasonCode.DUPLICATE_CHOICE: "chosen twice; the first time counts",
    ReasonCode.BEYOND_MAX_CHOICES: "beyond the number of choices the campaign allows",
    ReasonCode.UNKNOWN_OFFER: "not an offer of this campaign",
    ReasonCode.TOO_YOUNG: "the child is too young for it",
    ReasonCode.TOO_OLD: "the child is too old for it",
    ReasonCode.RESIDENCE_NOT_ACCEPTED: "the campaign is not open to your place of residence",
    ReasonCode.SIBLING_NOT_ELIGIBLE: "a brother or sister in the group cannot attend it",
    ReasonCode.SIBLINGS_NOT_KEPT_TOGETHER: "no offer ranked could take all the siblings, so each applied alone",
    ReasonCode.WAITLIST_FULL: "not placed and its waitlist is full",
}


def describe(outcome: Outcome) -> str:
    """The explanation in plain English; the portal renders the structured one in French."""
    explanation = outcome.explanation
    lines = [{Status.ALLOCATED: f"Placed at {outcome.offer_id}.",
              Status.WAITLISTED: "Not placed yet: on the waitlists below.",
              Status.REJECTED: "Not placed."}[outcome.status]]
    lines += [f"{reason.offer_id or 'Application'}: {_REASON_TEXT[reason.code]}." for reason in outcome.reasons]
    you = ""
    if explanation.tie_break is not None:
        you = _tie_break_text(explanation.tie_break_kind, explanation.tie_break)
        tickets = f", from {explanation.tickets} tickets" if explanation.tickets > 1 else ""
        lines.append(f"Your {you}{tickets}.")
    if explanation.sibling_group:
        lines.append(f"Your {len(explanation.sibling_group)} children were allocated together: "
                     f"they needed {len(explanation.sibling_group)} seats at the same offer.")
    for offer in explanation.offers:
        criteria = ", ".join(offer.criteria_met) or "no priority criterion"
        heading = f"Choice {offer.rank}, {offer.offer_id} (tier {offer.tier}: {criteria})"
        if offer.standing == Standing.ADMITTED:
            lines.append(f"{heading}: placed.")
        elif offer.standing == Standing.NOT_NEEDED:
            lines.append(f"{heading}: not needed, a higher choice was obtained.")
        else:
            beaten_by = "; ".join(
                f"the last admitted on its {cutoff.seats} seats had tier {cutoff.tier} and "
                f"{_tie_break_text(explanation.tie_break_kind, cutoff.tie_break)}" for cutoff in offer.cutoffs)
            lines.append(f"{heading}: not placed. You had tier {offer.tier} and {you}; "
                         f"{beaten_by or 'it had no seats'}.")
            if offer.waitlist_position is not None:
                lines.append(f"You are number {offer.waitlist_position} on its waitlist.")
    return "\n".join(lines)


def _tie_break_text(kind: TieBreak, value: int) -> str:
    """Sixteen hexadecimal digits tell numbers apart in practice; the structured explanation has them all."""
    return f"lottery number 0x{format_number(value)[:16]}…" if kind == TieBreak.LOTTERY else f"arrival rank {value}"
