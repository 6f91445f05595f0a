"""Who takes part in the allocation: single children, and siblings kept together as one unit.

A sibling group (applications sharing a sibling_group_id, when the policy keeps siblings together)
enters as one unit that needs one seat per member at the same offer:
- it ranks the offers of its FIRST application (lowest arrival sequence), keeping only those that
  accept every member; the other members' own lists are not used;
- when no such offer is left, the group cannot be kept together and each member enters alone;
- under fcfs it arrives with its LAST member (the group is complete only then); under a lottery it
  draws ONE number, its first application's, with the fewest tickets any member holds, so that
  neither the number of siblings nor the member with the longest history changes the family's luck.

A large campaign has 100,000 entrants, so they are kept as columns (one list per attribute, entrant
i in position i) rather than as 100,000 objects.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from itertools import compress
from operator import itemgetter

from services.allocation.domain import lottery
from services.allocation.domain.eligibility import earliest_application_per_child, ineligibility, ranked_list
from services.allocation.domain.model import Application, CampaignPolicy, Offer
from services.allocation.domain.result import Reason, ReasonCode, TieBreak


class _FirstRanks(dict):
    def __missing__(self, count: int) -> tuple[int, ...]:
        ranks = self[count] = tuple(range(1, count + 1))
        return ranks


_FIRST_RANKS = _FirstRanks()  # count → (1, 2, …, count): an application's ranks when every choice stands
_NO_REASON: tuple[Reason, ...] = ()


class Entry:
    """The entrants, i = 0, 1, … in the order of their ids (an entrant's id is its first
    application's), and what became of each application.

    Applications are referred to by their index in the list given to `enter`, sorted by id.
    """

    def __init__(self, tie_break_kind: TieBreak, given: list[Application], order: list[int]):
        self.tie_break_kind = tie_break_kind
        application_count = len(given)
        self.given = given  # the applications in the order they were given, which is their order in memory
        self.order = order  # per application (in the order of ids), its place in `given`
        # Per entrant:
        self.first: list[Application] = []  # its first application
        self.first_given: list[int] = []  # the place of its first application in `given`
        self.groups: dict[int, tuple[Application, ...]] = {}  # the members of those that are sibling groups
        self.choices: list[tuple[str, ...]] = []  # offers it may be allocated, best first
        self.ranks: list[tuple[int, ...]] = []  # each choice's place in the first application's own list, from 1
        self.tie_breaks: list[int] = []  # arrival rank or lottery number: lower goes first
        self.tickets: list[int] = []
        # Per application:
        self.reasons: list[tuple[Reason, ...]] = [_NO_REASON] * application_count  # choices dropped, and why
        self.entrant_of: list[int] = [-1] * application_count  # -1: it never reached the allocation
        self.member_of: list[int] = [0] * application_count  # its place among its entrant's members

    @property
    def count(self) -> int:
        return len(self.first)

    def members(self, i: int) -> tuple[Application, ...]:
        """First application first: the order of adjacent waitlist positions."""
        return self.groups.get(i) or (self.first[i],)

    def sizes(self) -> list[int]:
        sizes = [1] * self.count
        for i, members in self.groups.items():
            sizes[i] = len(members)
        return sizes


def enter(policy: CampaignPolicy, offers: Mapping[str, Offer], applications: list[Application],
          seed: bytes | None, given: list[Application] | None = None, order: list[int] | None = None,
          split: frozenset[str] = frozenset()) -> Entry:
    """`applications`: sorted by id. `given`: the same in the order they were given, with `order`
    the place in `given` of each application in `applications`. `split`: the sibling groups whose
    children apply alone because re-proposal did not settle with them together (rule 2).

    What reads the applications one by one reads them in the order given when it can: in a large
    campaign that is their order in memory, where reading them in the order of their ids costs
    a cache miss or more each."""
    if given is None:
        given, order = applications, list(range(len(applications)))
    tie_breaker = _TieBreaker(policy, applications, seed, given, order)
    entry = Entry(tie_breaker.kind, given, order)
    reasons = entry.reasons
    kept = _earliest_application_per_child(applications, given)
    if len(kept) < len(applications):
        duplicate_child = (Reason(ReasonCode.DUPLICATE_CHILD),)
        for index in set(range(len(applications))).difference(kept):
            reasons[index] = duplicate_child
    found = []  # (index of the first application, indices, the entrant's columns), for those found one by one
    in_groups = set()
    for indices in _sibling_groups(policy, applications, kept):
        if applications[indices[0]].sibling_group_id in split:
            for index in indices:
                reasons[index] = (Reason(ReasonCode.SIBLINGS_SPLIT_TO_SETTLE),)
            continue
        group = _group_entrant(indices, applications, offers, policy, tie_breaker, reasons)
        if group is not None:  # else each member enters alone, with the reason already given
            found.append((indices[0], indices, group))
            in_groups.update(indices)
    singles = [index for index in kept if index not in in_groups] if in_groups else kept
    # The usual single application, all of whose choices stand, is checked and entered over all of
    # them at once (which is much faster in Python); any other goes through `_single_entrant`.
    stands = _every_choice_stands(given, offers, policy)
    standing = [stands[order[index]] and reasons[index] is _NO_REASON for index in singles]
    for index, stands_ in zip(singles, standing):
        if not stands_:
            single = _single_entrant(index, applications[index], offers, policy, tie_breaker, reasons)
            if single is not None:
                found.append((index, (index,), single))
    firsts = list(compress(singles, standing))
    if found:  # in the order of the entrants' ids, which is that of their first applications
        found.sort(key=itemgetter(0))
        firsts = sorted(firsts + [index for index, _, _ in found])  # two sorted runs: merged in linear time
    # Every column as if each entrant were its first application entering alone, then the values of those
    # found one by one put in their places: cheaper than merging two sets of columns.
    places = [order[index] for index in firsts]
    choices_given = [application.choices for application in given]
    choices = [choices_given[place] for place in places]
    tickets_given = tie_breaker.tickets_given
    tie_breaks = tie_breaker.singles(firsts, places)
    tickets = [tickets_given[place] for place in places]
    ranks = list(map(_FIRST_RANKS.__getitem__, map(len, choices)))
    members = {}  # position in the columns → the indices of a group's members
    for index, indices, values in found:
        at = bisect_left(firsts, index)
        choices[at], ranks[at], tie_breaks[at], tickets[at] = values
        if len(indices) > 1:
            members[at] = indices
    entry.first, entry.first_given = [given[place] for place in places], places
    entry.choices, entry.ranks, entry.tie_breaks, entry.tickets = choices, ranks, tie_breaks, tickets
    entrant_of, member_of = entry.entrant_of, entry.member_of
    for number, index in enumerate(firsts):
        entrant_of[index] = number
    for number, indices in members.items():
        entry.groups[number] = tuple(applications[index] for index in indices)
        for member, index in enumerate(indices):
            entrant_of[index] = number
            member_of[index] = member
    return entry


def _every_choice_stands(applications: list[Application], offers: Mapping[str, Offer],
                         policy: CampaignPolicy) -> list[bool]:
    """Per application: whether, entering alone, it gives no reason to drop any choice (see
    eligibility.py)."""
    class Fitting(dict):  # age → the offers open to it
        def __missing__(self, age: int) -> frozenset[str]:
            fits = self[age] = frozenset(offer_id for offer_id, offer in offers.items()
                                         if offer.min_age <= age <= offer.max_age)
            return fits
    fitting = Fitting()
    most = policy.max_choices if policy.max_choices is not None else len(offers)
    # No choice twice: three choices, the usual count, are compared pairwise, which costs less than a set.
    standing = [0 < len(choices := a.choices) <= most and fitting[a.age_at_reference_date].issuperset(choices)
                and (choices[0] != choices[1] != choices[2] != choices[0] if len(choices) == 3
                     else len(choices) == 1 or len(set(choices)) == len(choices))
                for a in applications]
    required = policy.residence_required_arrondissements
    if required is not None:
        standing = [ok and a.facts.residence_arrondissement in required for ok, a in zip(standing, applications)]
    return standing


def _earliest_application_per_child(applications: list[Application], given: list[Application]) -> list[int]:
    """The indices of the applications that take part (see `earliest_application_per_child`), in order."""
    if len({a.child_id for a in given}) == len(applications):
        return list(range(len(applications)))
    kept_ids = {a.application_id for a in earliest_application_per_child(applications)[0]}
    return [index for index, a in enumerate(applications) if a.application_id in kept_ids]


def _sibling_groups(policy: CampaignPolicy, applications: list[Application], kept: list[int]):
    """The index tuples of the groups to keep together, first application first, by group id."""
    if not policy.keep_siblings_together:
        return []
    by_group = {}
    for index in kept:
        group_id = applications[index].sibling_group_id
        if group_id is not None:
            by_group.setdefault(group_id, []).append(index)
    return [tuple(sorted(indices, key=lambda index: (applications[index].arrival_position,
                                                      applications[index].application_id)))
            for _, indices in sorted(by_group.items()) if len(indices) > 1]


def _single_entrant(index, application, offers, policy, tie_breaker, reasons):
    """For one application entering alone: its choices, ranks, tie-break and tickets, or None if no
    choice is eligible; records the application's reasons."""
    listed = ranked_list(application, offers, policy)
    # A member of a group that could not be kept together enters alone and keeps that note.
    dropped = list(reasons[index]) + list(listed.dropped)
    eligible = []
    for offer_id in listed.offer_ids:
        code = ineligibility(application, offers[offer_id], policy)
        if code is None:
            eligible.append(offer_id)
        else:
            dropped.append(Reason(code, offer_id))
    if not application.choices:
        dropped.append(Reason(ReasonCode.NO_CHOICE))
    reasons[index] = _in_list_order(dropped, application)
    if not eligible:
        return None
    tickets = tie_breaker.tickets(application)
    return tuple(eligible), _ranks(application, eligible), tie_breaker.single(index, application, tickets), tickets


def _group_entrant(indices, applications, offers, policy, tie_breaker, reasons):
    """The group's columns (choices, ranks, tie-break, tickets), or None when
    no ranked offer takes every member; records the members' reasons."""
    members = tuple(applications[index] for index in indices)
    first = members[0]
    listed = ranked_list(first, offers, policy)
    codes = {offer_id: [ineligibility(member, offers[offer_id], policy) for member in members]
             for offer_id in listed.offer_ids}
    together = tuple(offer_id for offer_id in listed.offer_ids if not any(codes[offer_id]))
    if not together:
        for index in indices:
            reasons[index] = (Reason(ReasonCode.SIBLINGS_NOT_KEPT_TOGETHER),)
        return None
    for place, index in enumerate(indices):
        dropped = list(listed.dropped) + [
            Reason(member_codes[place] or ReasonCode.SIBLING_NOT_ELIGIBLE, offer_id)
            for offer_id, member_codes in codes.items() if any(member_codes)]
        reasons[index] = _in_list_order(dropped, first)
    tickets = min(tie_breaker.tickets(member) for member in members)
    return together, _ranks(first, together), tie_breaker.group(indices, members, tickets), tickets


def _ranks(first: Application, choices) -> tuple[int, ...]:
    return tuple(first.choices.index(offer_id) + 1 for offer_id in choices)


def _in_list_order(dropped: list[Reason], ranked_by: Application) -> tuple[Reason, ...]:
    def position(reason: Reason) -> int:
        return ranked_by.choices.index(reason.offer_id) if reason.offer_id in ranked_by.choices else -1
    return tuple(sorted(dropped, key=position))


class _TieBreaker:
    """Arrival ranks under fcfs, lottery numbers otherwise.

    Under a lottery, every application given draws its number with its own tickets, once, in the
    order given (their order in memory), before anyone asks: almost every entrant's number is its
    first application's with those tickets. The few applications that never enter alone (a group's
    other members, a child's later applications) cost an HMAC each for nothing, less than drawing
    the others one by one or in the order of their ids."""

    def __init__(self, policy: CampaignPolicy, applications: list[Application], seed: bytes | None,
                 given: list[Application], order: list[int]):
        self.kind = TieBreak.LOTTERY if policy.draws_lots else TieBreak.ARRIVAL
        if self.kind == TieBreak.LOTTERY and seed is None:
            raise ValueError(f"a {policy.mode} campaign needs its lottery seed")
        self.weight = policy.lottery_weight_per_unsuccessful_year if policy.draws_lots else 0
        self.drawer = lottery.Drawer(seed) if self.kind == TieBreak.LOTTERY else None
        self.given, self.order = given, order
        self.tickets_given = self.all_tickets(given)  # by place in `given`
        self.number_given = self._draw_all(given) if self.drawer else None
        if self.kind == TieBreak.ARRIVAL:
            # By arrival sequence, then id: the applications are sorted by id and the sort is stable.
            arrivals = [a.arrival_position for a in applications]
            self.arrival_rank = [0] * len(applications)
            for rank, index in enumerate(sorted(range(len(applications)), key=arrivals.__getitem__), start=1):
                self.arrival_rank[index] = rank

    def tickets(self, application: Application) -> int:
        """As `lottery.tickets`."""
        return 1 + self.weight * application.facts.unsuccessful_earlier_years if self.weight else 1

    def all_tickets(self, applications: list[Application]) -> list[int]:
        if not self.weight:
            return [1] * len(applications)
        weight = self.weight
        return [1 + weight * application.facts.unsuccessful_earlier_years for application in applications]

    def _draw_all(self, given: list[Application]) -> list[int] | None:
        try:
            return self.drawer.numbers([application.application_id for application in given], self.tickets_given)
        except UnicodeEncodeError:  # an id UTF-8 cannot encode: it fails the draw only if it enters it
            return None

    def singles(self, indices: list[int], places: list[int]) -> list[int]:
        """`single` for the applications of these indices, at these places in `given`, each with its own
        tickets."""
        if self.kind == TieBreak.ARRIVAL:
            return [self.arrival_rank[index] for index in indices]
        if self.number_given is None:
            return self.drawer.numbers([self.given[place].application_id for place in places],
                                       [self.tickets_given[place] for place in places])
        number_given = self.number_given
        return [number_given[place] for place in places]

    def single(self, index: int, application: Application, tickets: int) -> int:
        if self.kind == TieBreak.ARRIVAL:
            return self.arrival_rank[index]
        return self._number(index, application, tickets)

    def group(self, indices, members, tickets: int) -> int:
        if self.kind == TieBreak.ARRIVAL:
            return max(self.arrival_rank[index] for index in indices)
        return self._number(indices[0], members[0], tickets)

    def _number(self, index: int, application: Application, tickets: int) -> int:
        place = self.order[index]
        if tickets == self.tickets_given[place] and self.number_given is not None:
            return self.number_given[place]
        return self.drawer.number(application.application_id, tickets)  # a group's fewest, not its first's
