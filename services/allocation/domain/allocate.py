"""The allocation of one campaign, from its inputs to an outcome per application.

Pure and deterministic: the same policy, offers, applications and seed give the same result in
whatever order the offers and applications are given.

The sibling_placed criterion depends on the allocation itself, so it is settled in two passes: a
preliminary allocation where nobody meets it, then the published one, where a child meets it at
an offer where a brother or sister (same family, another child) was placed by the preliminary
pass. It is a priority earned from the preliminary pass, not a promise that the sibling keeps
that seat in the published one.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from services.allocation.domain.deferred_acceptance import Matching, deferred_acceptance
from services.allocation.domain.entrants import Entry, enter
from services.allocation.domain.explain import cutoffs, explanation
from services.allocation.domain.lottery import tickets
from services.allocation.domain.model import Application, CampaignPolicy, Offer
from services.allocation.domain.priorities import Proposer, proposers, uses_sibling_placed
from services.allocation.domain.result import (AllocationResult, Explanation, Outcome, Reason, ReasonCode, Status,
                                               WaitlistPosition)
from services.allocation.domain.seats import SeatPlan
from services.allocation.domain.statistics import statistics
from services.allocation.domain.waitlists import waitlists


def allocate(policy: CampaignPolicy, offers: Iterable[Offer], applications: Iterable[Application],
             seed: bytes | None = None) -> AllocationResult:
    """`seed`: the revealed lottery seed; required unless the mode is fcfs."""
    offers_by_id = _by_unique_id(offers, lambda offer: offer.offer_id, "offer")
    applications = sorted(applications, key=lambda a: a.application_id)
    _by_unique_id(applications, lambda application: application.application_id, "application")
    entry = enter(policy, offers_by_id, applications, seed)
    plans = {offer_id: SeatPlan.for_offer(offer, policy) for offer_id, offer in sorted(offers_by_id.items())}
    sibling_offers: Mapping[str, frozenset[str]] = {}
    if uses_sibling_placed(policy):
        preliminary = _match(entry, offers_by_id, policy, plans, sibling_offers={})
        sibling_offers = _offers_of_placed_siblings(*preliminary)
    ranked, matching = _match(entry, offers_by_id, policy, plans, sibling_offers)
    lists = waitlists(ranked, plans, matching)
    outcomes = _outcomes(applications, entry, policy, ranked, matching, cutoffs(ranked, plans, matching), lists)
    return AllocationResult(outcomes, statistics(outcomes, ranked, plans, matching, lists))


def _by_unique_id(items, id_of, kind: str) -> dict:
    items = list(items)
    by_id = {id_of(item): item for item in items}
    if len(by_id) != len(items):
        raise ValueError(f"two {kind}s share an id")
    return by_id


def _match(entry: Entry, offers, policy, plans, sibling_offers) -> tuple[tuple[Proposer, ...], Matching]:
    ranked = proposers(entry.entrants, offers, policy, sibling_offers)
    return ranked, deferred_acceptance(ranked, plans)


def _offers_of_placed_siblings(ranked: tuple[Proposer, ...], matching: Matching) -> dict[str, frozenset[str]]:
    placed_at, families = {}, {}
    for proposer in ranked:
        for member in proposer.entrant.members:
            families.setdefault(member.family_id, []).append(member)
            if proposer.entrant_id in matching.assignment:
                placed_at[member.application_id] = matching.assignment[proposer.entrant_id]
    return {child.application_id: frozenset(placed_at[sibling.application_id] for sibling in family
                                            if sibling.child_id != child.child_id
                                            and sibling.application_id in placed_at)
            for family in families.values() for child in family}


def _outcomes(applications: list[Application], entry: Entry, policy: CampaignPolicy, ranked, matching,
              offer_cutoffs, lists) -> dict[str, Outcome]:
    proposer_of = {member.application_id: proposer for proposer in ranked for member in proposer.entrant.members}
    outcomes = {}
    for application in applications:
        application_id = application.application_id
        reasons = entry.reasons[application_id]
        proposer = proposer_of.get(application_id)
        if proposer is None:
            never_drawn = Explanation(entry.tie_break_kind, None, tickets(policy, application), (), ())
            outcomes[application_id] = Outcome(application_id, Status.REJECTED, None, (), reasons, never_drawn)
            continue
        explained = explanation(proposer, application_id, policy, entry.tie_break_kind, matching, offer_cutoffs, lists)
        waitlist = tuple(WaitlistPosition(offer_id, lists[offer_id][application_id])
                         for offer_id in proposer.choices if application_id in lists[offer_id])
        offer_id = matching.assignment.get(proposer.entrant_id)
        if offer_id is not None:
            status = Status.ALLOCATED
        elif waitlist:
            status = Status.WAITLISTED
        else:
            status = Status.REJECTED
            reasons += tuple(Reason(ReasonCode.WAITLIST_FULL, choice) for choice in proposer.choices)
        outcomes[application_id] = Outcome(application_id, status, offer_id, waitlist, reasons, explained)
    return outcomes

