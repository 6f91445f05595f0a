"""The allocation of one campaign, from its inputs to an outcome per application.

Pure and deterministic: the same policy, offers, applications and seed give the same result in
whatever order the offers and applications are given.

The sibling_placed criterion depends on the allocation itself, so it is settled in two passes: a
preliminary allocation where nobody meets it, then the published one, where a child meets it at
an offer where a brother or sister (same family, another child) was placed by the preliminary
pass. It is a priority earned from the preliminary pass, not a promise that the sibling keeps
that seat in the published one. When the preliminary pass gives nobody the criterion anywhere they
ranked, the published pass would be the same allocation, so it is not run again.

`rule` selects how sibling groups are settled (see deferred_acceptance.py): 2, re-proposal, is the
current rule; 1 is kept so that draws published under it still verify. Under rule 2, when
re-proposal does not settle (it may cycle: with groups, no stable allocation need exist), the group
displaced most often is split, its children applying alone, and the allocation starts again; each
time one group fewer, so it ends.
"""
from __future__ import annotations

import gc
from collections.abc import Iterable
from contextlib import contextmanager
from itertools import islice
from operator import eq

from services.allocation.domain.deferred_acceptance import CURRENT_RULE, RULES, Matching, deferred_acceptance
from services.allocation.domain.entrants import Entry, enter
from services.allocation.domain.explain import Outcomes, cutoffs
from services.allocation.domain.model import Application, CampaignPolicy, Offer
from services.allocation.domain.priorities import Ranking, uses_sibling_placed
from services.allocation.domain.result import AllocationResult
from services.allocation.domain.seats import SeatPlan
from services.allocation.domain.statistics import statistics
from services.allocation.domain.validated import count_validated, tell_not_counted
from services.allocation.domain.waitlists import waitlists


def allocate(policy: CampaignPolicy, offers: Iterable[Offer], applications: Iterable[Application],
             seed: bytes | None = None, *, rule: int = CURRENT_RULE) -> AllocationResult:
    """`seed`: the revealed lottery seed; required unless the mode is fcfs. `rule`: the sibling-group
    rule (1 or 2, see the module's docstring); only verifying an old draw asks for 1."""
    if rule not in RULES:
        raise ValueError(f"no allocation rule {rule}: known rules are {RULES}")
    applications, not_counted = count_validated(policy, list(applications))
    with _collector_paused(promote=len(applications) >= _PROMOTE_FROM):
        return tell_not_counted(_allocate(policy, offers, applications, seed, rule), not_counted)


_PROMOTE_FROM = 10_000  # applications: see _collector_paused


@contextmanager
def _collector_paused(promote: bool):
    """Pause Python's cyclic garbage collector while allocating, and restore it as it was.

    A large campaign creates about two million objects, none of them in a reference cycle, which
    reference counting frees as usual. With the collector on, creating them triggers collections
    that walk the young objects again and again and, as the heap grows, every object in the process
    (the inputs included): close to half the time of a 100,000-application allocation.

    Re-enabled, the collector would still walk every object the result is made of at its next young
    collection, once more at the next middle one, which took about 0.4 s and 0.8 s after a
    100,000-application allocation. With `promote`, the objects still young when the allocation
    ends (the result's, and those the caller made since its last young collection) are moved to the
    oldest generation at once instead (gc.freeze() then gc.unfreeze(), which walk nothing): they
    are examined at the next full collection, if still alive. Not done if the process keeps frozen
    objects of its own (gc.freeze() before a fork, say): unfreezing would release them too.
    """
    was_enabled = gc.isenabled()
    promote = promote and was_enabled and gc.get_freeze_count() == 0
    gc.disable()
    try:
        yield
    finally:
        if promote:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def _allocate(policy: CampaignPolicy, offers: Iterable[Offer], given: list[Application],
              seed: bytes | None, rule: int) -> AllocationResult:
    offers_by_id = _by_unique_id(offers, lambda offer: offer.offer_id, "offer")
    given_ids = [application.application_id for application in given]
    order = sorted(range(len(given)), key=given_ids.__getitem__)  # the places in `given`, by id
    applications = [given[place] for place in order]
    ids = [given_ids[place] for place in order]
    if any(map(eq, ids, islice(ids, 1, None))):  # sorted: equal ids are neighbours
        raise ValueError("two applications share an id")
    offer_ids = sorted(offers_by_id)
    offer_list = [offers_by_id[offer_id] for offer_id in offer_ids]
    plans = [SeatPlan.for_offer(offer, policy) for offer in offer_list]
    split: frozenset[str] = frozenset()
    while True:
        entry = enter(policy, offers_by_id, applications, seed, given, order, split)
        ranking = Ranking(entry, {offer_id: i for i, offer_id in enumerate(offer_ids)}, offer_list, policy)
        ranking.prioritise()
        matching = deferred_acceptance(ranking, plans, rule)
        if uses_sibling_placed(policy) and matching.unsettled is None:
            earned, concerned = _offers_of_placed_siblings(entry, matching, offer_ids)
            before = {i: ranking.keys_of(i) for i in concerned}
            ranking.prioritise(earned, only=concerned)
            if any(ranking.keys_of(i) != keys for i, keys in before.items()):
                matching = deferred_acceptance(ranking, plans, rule)
        if matching.unsettled is None:
            break
        split |= {entry.first[matching.unsettled].sibling_group_id}
    positions, lengths = waitlists(ranking, plans, matching)
    outcomes = Outcomes(applications, ids, entry, policy, ranking, matching, offer_ids,
                        cutoffs(ranking, plans, matching), positions)
    return AllocationResult(outcomes, statistics(outcomes.statuses(), ranking, plans, matching, lengths))


def _by_unique_id(items, id_of, kind: str) -> dict:
    items = list(items)
    by_id = {id_of(item): item for item in items}
    if len(by_id) != len(items):
        raise ValueError(f"two {kind}s share an id")
    return by_id


def _offers_of_placed_siblings(entry: Entry, matching: Matching,
                               offer_ids: list[str]) -> tuple[dict[str, frozenset[str]], set[int]]:
    """Per application id, the offers where another child of its family was placed (only for the
    applications that have any); and the entrants those applications belong to."""
    families: dict[str, list] = {}
    for i in range(entry.count):
        offer = matching.assigned[i]
        placed = offer_ids[offer] if offer >= 0 else None
        for member in entry.members(i):
            families.setdefault(member.family_account, []).append((i, member, placed))
    earned, concerned = {}, set()
    for family in families.values():
        if len(family) < 2:
            continue
        for i, child, _ in family:
            offers = frozenset(placed for _, sibling, placed in family
                               if placed is not None and sibling.child_id != child.child_id)
            if offers:
                earned[child.application_id] = offers
                concerned.add(i)
    return earned, concerned
