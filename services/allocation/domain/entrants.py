"""Who takes part in the allocation: single children, and siblings kept together as one unit.

A sibling group (applications sharing a sibling_group_id, when the policy keeps siblings together)
enters as one unit that needs one seat per member at the same offer:
- it ranks the offers of its FIRST application (lowest arrival sequence), keeping only those that
  accept every member; the other members' own lists are not used;
- when no such offer is left, the group cannot be kept together and each member enters alone;
- under fcfs it arrives with its LAST member (the group is complete only then); under a lottery it
  draws ONE number, its first application's, with the fewest tickets any member holds, so that
  neither the number of siblings nor the member with the longest history changes the family's luck.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from services.allocation.domain import lottery
from services.allocation.domain.eligibility import earliest_application_per_child, ineligibility, ranked_list
from services.allocation.domain.model import Application, CampaignPolicy, Offer
from services.allocation.domain.result import Reason, ReasonCode, TieBreak


@dataclass(frozen=True)
class Entrant:
    entrant_id: str  # the id of its first application
    members: tuple[Application, ...]  # first application first: the order of adjacent waitlist positions
    choices: tuple[str, ...]  # offers it may be allocated, best first
    tie_break: int  # arrival rank or lottery number: lower goes first
    tickets: int

    @property
    def size(self) -> int:
        return len(self.members)

    def rank(self, offer_id: str) -> int:
        return self.members[0].choices.index(offer_id) + 1


@dataclass(frozen=True)
class Entry:
    entrants: tuple[Entrant, ...]  # by entrant id
    reasons: Mapping[str, tuple[Reason, ...]]  # per application id, every application included
    tie_break_kind: TieBreak


def enter(policy: CampaignPolicy, offers: Mapping[str, Offer], applications: list[Application],
          seed: bytes | None) -> Entry:
    kept, duplicates = earliest_application_per_child(applications)
    reasons = {a.application_id: (Reason(ReasonCode.DUPLICATE_CHILD),) for a in duplicates}
    grouped, singles = _sibling_groups(policy, kept)
    tie_breaker = _TieBreaker(policy, applications, seed)
    entrants = []
    for members in grouped:
        group = _group_entrant(members, offers, policy, tie_breaker, reasons)
        if group is None:
            singles.extend(members)
        else:
            entrants.append(group)
    for application in singles:
        single = _single_entrant(application, offers, policy, tie_breaker, reasons)
        if single is not None:
            entrants.append(single)
    return Entry(tuple(sorted(entrants, key=lambda e: e.entrant_id)), reasons, tie_breaker.kind)


def _sibling_groups(policy: CampaignPolicy, applications: list[Application]):
    if not policy.keep_siblings_together:
        return [], list(applications)
    singles, by_group = [], {}
    for application in applications:
        if application.sibling_group_id is None:
            singles.append(application)
        else:
            by_group.setdefault(application.sibling_group_id, []).append(application)
    groups = []
    for group_id in sorted(by_group):
        members = tuple(sorted(by_group[group_id], key=lambda a: (a.arrival_sequence, a.application_id)))
        if len(members) == 1:
            singles.append(members[0])
        else:
            groups.append(members)
    return groups, singles


def _single_entrant(application, offers, policy, tie_breaker, reasons) -> Entrant | None:
    listed = ranked_list(application, offers, policy)
    # A member of a group that could not be kept together enters alone and keeps that note.
    dropped = list(reasons.get(application.application_id, ())) + list(listed.dropped)
    eligible = []
    for offer_id in listed.offer_ids:
        code = ineligibility(application, offers[offer_id], policy)
        if code is None:
            eligible.append(offer_id)
        else:
            dropped.append(Reason(code, offer_id))
    if not application.choices:
        dropped.append(Reason(ReasonCode.NO_CHOICE))
    reasons[application.application_id] = _in_list_order(dropped, application)
    if not eligible:
        return None
    return Entrant(application.application_id, (application,), tuple(eligible),
                   tie_breaker.single(application), tie_breaker.tickets(application))


def _group_entrant(members, offers, policy, tie_breaker, reasons) -> Entrant | None:
    first = members[0]
    listed = ranked_list(first, offers, policy)
    codes = {offer_id: [ineligibility(member, offers[offer_id], policy) for member in members]
             for offer_id in listed.offer_ids}
    together = tuple(offer_id for offer_id in listed.offer_ids if not any(codes[offer_id]))
    if not together:
        for member in members:
            reasons[member.application_id] = (Reason(ReasonCode.SIBLINGS_NOT_KEPT_TOGETHER),)
        return None
    for index, member in enumerate(members):
        dropped = list(listed.dropped) + [
            Reason(member_codes[index] or ReasonCode.SIBLING_NOT_ELIGIBLE, offer_id)
            for offer_id, member_codes in codes.items() if any(member_codes)]
        reasons[member.application_id] = _in_list_order(dropped, first)
    return Entrant(first.application_id, members, together, tie_breaker.group(members),
                   tie_breaker.group_tickets(members))


def _in_list_order(dropped: list[Reason], ranked_by: Application) -> tuple[Reason, ...]:
    def position(reason: Reason) -> int:
        return ranked_by.choices.index(reason.offer_id) if reason.offer_id in ranked_by.choices else -1
    return tuple(sorted(dropped, key=position))


class _TieBreaker:
    """Arrival ranks under fcfs, lottery numbers otherwise."""

    def __init__(self, policy: CampaignPolicy, applications: list[Application], seed: bytes | None):
        self.kind = TieBreak.LOTTERY if policy.draws_lots else TieBreak.ARRIVAL
        if self.kind == TieBreak.LOTTERY and seed is None:
            raise ValueError(f"a {policy.mode} campaign needs its lottery seed")
        self.seed = seed
        self.policy = policy
        by_arrival = sorted(applications, key=lambda a: (a.arrival_sequence, a.application_id))
        self.arrival_rank = {a.application_id: rank for rank, a in enumerate(by_arrival, start=1)}

    def tickets(self, application: Application) -> int:
        return lottery.tickets(self.policy, application)

    def group_tickets(self, members) -> int:
        return min(self.tickets(member) for member in members)

    def single(self, application: Application) -> int:
        if self.kind == TieBreak.ARRIVAL:
            return self.arrival_rank[application.application_id]
        return lottery.lottery_number(self.seed, application.application_id, self.tickets(application))

    def group(self, members) -> int:
        if self.kind == TieBreak.ARRIVAL:
            return max(self.arrival_rank[member.application_id] for member in members)
        return lottery.lottery_number(self.seed, members[0].application_id, self.group_tickets(members))
