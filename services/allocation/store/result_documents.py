"""The core's answers as JSON documents: how decisions, explanations and statistics are stored and served.

Tie-breaks are written the way the draw bundle writes them: a lottery number as 64 hexadecimal
digits (`lottery_number`), an arrival rank as an integer (`arrival_rank`); the other key is null.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from services.allocation.domain import (
    AllocationResult,
    Cutoff,
    Explanation,
    Outcome,
    Reason,
    Standing,
    Status,
    TieBreak,
    WaitlistPosition,
    format_number,
)
from services.allocation.domain.explain import DecidedOf, decided
from services.allocation.domain.result import Choice, Decided
from services.allocation.domain.stored_explanations import tier_at as tier_at


def tie_break_document(kind: TieBreak, value: int | None) -> dict[str, Any]:
    lottery = kind == TieBreak.LOTTERY and value is not None
    return {"lottery_number": format_number(value) if lottery else None,
            "arrival_rank": value if kind == TieBreak.ARRIVAL else None}


def explanation_document(explanation: Explanation) -> dict[str, Any]:
    return ResultDocuments().explanation(explanation)


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
    return ResultDocuments().decision(outcome)


class ResultDocuments:
    """Documents of one result's outcomes (a draw: one instance for all its decisions), from their facts
    (`Decided`, as the core keeps them). The core shares equal choices among applications, and every application
    not admitted at an offer reads the offer's one tuple of cutoffs: each is written here once and its document
    reused, where writing them anew was a third of a draw's decision writing. The documents are the same as one
    by one; those shared must only be read (a draw serialises them).

    `compact`: explanations in the form a draw stores (`stored_explanations`): each offer's cutoffs once, in
    `cutoffs`, to store with the run; an application whose cutoffs at an offer are not the offer's one tuple
    (none today: the core gives every application not admitted there the same) is written whole, and reads the
    same."""

    def __init__(self, *, compact: bool = False):
        # (id of the choice, tie-break kind) → (the choice, kept so that its id is not reused, its document)
        self._offers: dict[tuple[int, TieBreak], tuple[Choice, dict[str, Any]]] = {}
        self._cutoffs: dict[tuple[int, TieBreak], tuple[tuple[Cutoff, ...], list[dict[str, Any]]]] = {}
        self._compact = compact
        self.cutoffs: dict[str, list[dict[str, Any]]] = {}  # offer id → its cutoffs' documents (compact only)
        self._cutoffs_of_offer: dict[str, tuple[Cutoff, ...]] = {}
        self._choices: dict[int, tuple[Choice, list[Any]]] = {}  # id of a shared choice → its row
        self._facts = DecidedOf()

    def decision(self, outcome: Outcome) -> dict[str, Any]:
        return self.decided(self._facts(outcome))

    def explanation(self, explanation: Explanation) -> dict[str, Any]:
        return self._explanation(explanation.tie_break_kind, explanation.tie_break, explanation.tickets,
                                 explanation.sibling_group, self._facts.choices(explanation.offers))

    def decided(self, decided: Decided) -> dict[str, Any]:
        """The columns of a `decisions` row."""
        return {
            "outcome": str(decided.status),
            "offer_id": decided.offer_id,
            "waitlist": [{"offer_id": offer_id, "position": position} for offer_id, position in decided.waitlist],
            "reasons": [reason_document(reason) for reason in decided.reasons],
            "explanation": self._explanation(decided.tie_break_kind, decided.tie_break, decided.tickets,
                                             decided.sibling_group, decided.choices),
        }

    def _explanation(self, kind: TieBreak, tie_break: int | None, tickets: int, sibling_group: tuple[str, ...],
                     choices: tuple[Choice, ...]) -> dict[str, Any]:
        if self._compact and (rows := self._choice_rows(choices, kind)) is not None:
            return {
                "tie_break_kind": str(kind),
                **tie_break_document(kind, tie_break),
                "tickets": tickets,
                "sibling_group": list(sibling_group),
                "choices": rows,
                "decided_on_arrival": False,
            }
        return {
            "tie_break_kind": str(kind),
            **tie_break_document(kind, tie_break),
            "tickets": tickets,
            "sibling_group": list(sibling_group),
            "offers": [self._offer(choice, kind) for choice in choices],
            "decided_on_arrival": False,
        }

    def _choice_rows(self, choices: tuple[Choice, ...], kind: TieBreak) -> list[list[Any]] | None:
        """The rows of `stored_explanations.CHOICE_FIELDS`; None if a cutoff is not its offer's one."""
        rows = []
        for choice in choices:
            if choice.standing is Standing.NOT_ADMITTED:
                known = self._cutoffs_of_offer.get(choice.offer_id)
                if known is None:
                    self._cutoffs_of_offer[choice.offer_id] = choice.cutoffs
                    self.cutoffs[choice.offer_id] = self._cutoff_documents(choice.cutoffs, kind)
                elif known is not choice.cutoffs and known != choice.cutoffs:
                    return None
            if choice.waitlist_position is None:  # shared by the core: its row too
                known_row = self._choices.get(id(choice))
                if known_row is not None:
                    rows.append(known_row[1])
                    continue
            row = [choice.offer_id, choice.rank, choice.tier, list(choice.criteria_met), str(choice.standing),
                   choice.waitlist_position]
            if choice.waitlist_position is None:
                self._choices[id(choice)] = (choice, row)
            rows.append(row)
        return rows

    def _offer(self, choice: Choice, kind: TieBreak) -> dict[str, Any]:
        shared = choice.waitlist_position is None  # one with a waitlist position is an application's own
        if shared and (known := self._offers.get((id(choice), kind))) is not None:
            return known[1]
        document = {
            "offer_id": choice.offer_id, "rank": choice.rank, "tier": choice.tier,
            "criteria_met": list(choice.criteria_met), "standing": str(choice.standing),
            "waitlist_position": choice.waitlist_position, "cutoffs": self._cutoff_documents(choice.cutoffs, kind)}
        if shared:
            self._offers[(id(choice), kind)] = (choice, document)
        return document

    def _cutoff_documents(self, cutoffs: tuple[Cutoff, ...], kind: TieBreak) -> list[dict[str, Any]]:
        if not cutoffs:
            return []
        known = self._cutoffs.get((id(cutoffs), kind))
        if known is not None:
            return known[1]
        documents = [{"seats": cutoff.seats, "tier": cutoff.tier, **tie_break_document(kind, cutoff.tie_break)}
                     for cutoff in cutoffs]
        self._cutoffs[(id(cutoffs), kind)] = (cutoffs, documents)
        return documents


def statistics_document(result: AllocationResult) -> dict[str, Any]:
    statistics = result.statistics
    applications_by_tier, placed_by_first_tier = Counter(), Counter()
    for facts in decided(result.outcomes):
        if facts.choices:
            first_tier = facts.choices[0].tier
            applications_by_tier[first_tier] += 1
            placed_by_first_tier[first_tier] += facts.status == Status.ALLOCATED
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
