"""Small constructors and Hypothesis strategies shared by the allocation tests."""
from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from services.allocation.domain import (
    Application,
    CampaignPolicy,
    Facts,
    Offer,
    PriorityCriterion,
    ReservedShare,
    Standing,
    Status,
    lottery_number,
)
from shared.domain.policy import AllocationMode

SEED = bytes(range(32))

# No deadline: timing varies across machines and the instances are small anyway.
property_settings = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def offer(offer_id: str, capacity: int = 1, *, arrondissement: int = 11, min_age: int = 3, max_age: int = 17,
          waitlist_limit: int | None = None) -> Offer:
    return Offer(offer_id, capacity, arrondissement, min_age, max_age, waitlist_limit)


def application(application_id: str, *choices: str, age: int = 8, arrival: int = 0, child: str | None = None,
                family: str | None = None, group: str | None = None, **facts) -> Application:
    return Application(application_id, child or f"child-{application_id}", family or f"family-{application_id}",
                       age, choices, Facts(**facts), arrival, group)


def policy(mode: str = "lottery", *criteria: PriorityCriterion, **settings_) -> CampaignPolicy:
    return CampaignPolicy(AllocationMode(mode), criteria, **settings_)


ALL_CRITERIA = (
    PriorityCriterion("single_parent"), PriorityCriterion("quotient_tranche_at_most", 3), PriorityCriterion("disability_allowance"),
    PriorityCriterion("sibling_placed"), PriorityCriterion("resident_of_offer_arrondissement"),
    PriorityCriterion("not_placed_previous_campaign"),
)


@st.composite
def instances(draw, *, groups: bool = True, reserves: bool = True, sibling_placed: bool = True,
              truncation: bool = True, duplicates: bool = True, modes=tuple(AllocationMode), max_applications: int = 9,
              max_list: int = 3):
    """(policy, offers, applications, seed): few seats for many children, small enough for brute force."""
    offers = [Offer(f"o{i}", draw(st.integers(0, 4)), draw(st.integers(1, 3)), draw(st.integers(4, 6)),
                    draw(st.integers(8, 10)), draw(st.none() | st.integers(0, 4)))
              for i in range(draw(st.integers(1, 3)))]
    usable = [c for c in ALL_CRITERIA if sibling_placed or c.name != "sibling_placed"]
    shares = []
    if reserves:
        for criterion in draw(st.lists(st.sampled_from(usable), max_size=2, unique=True)):
            shares.append(ReservedShare(criterion, draw(st.sampled_from(["1/3", "1/2"]))))
    the_policy = CampaignPolicy(
        mode=draw(st.sampled_from(modes)),
        criteria=tuple(draw(st.lists(st.sampled_from(usable), max_size=3, unique=True))),
        lottery_weight_per_unsuccessful_year=draw(st.integers(0, 2)),
        keep_siblings_together=groups and draw(st.booleans()),
        reserved_shares=tuple(shares),
        max_choices=draw(st.none() | st.integers(1, 3)) if truncation else None)
    count = draw(st.integers(0, max_applications))
    arrivals = draw(st.permutations(range(count)))
    offer_ids = [o.offer_id for o in offers] + (["elsewhere"] if truncation else [])
    applications = []
    for i in range(count):
        family = draw(st.integers(0, max(count // 2, 1)))
        child = draw(st.sampled_from([i, 0])) if duplicates else i
        applications.append(Application(
            application_id=f"app-{i:02d}", child_id=f"child-{child}", family_account=f"family-{family}",
            age_at_reference_date=draw(st.integers(5, 9)),
            choices=tuple(draw(st.lists(st.sampled_from(offer_ids), min_size=1, max_size=max_list,
                                        unique=not truncation))),
            facts=Facts(single_parent=draw(st.booleans()),
                        quotient_tranche=draw(st.none() | st.integers(1, 10)),
                        disability_allowance=draw(st.booleans()),
                        residence_arrondissement=draw(st.none() | st.integers(1, 3)),
                        unsuccessful_earlier_years=draw(st.integers(0, 2)),
                        not_placed_previous_campaign=draw(st.booleans())),
            arrival_position=arrivals[i],
            sibling_group_id=f"group-{family}" if draw(st.booleans()) else None))
    seed = draw(st.binary(min_size=32, max_size=32))
    return the_policy, offers, applications, seed


def lottery_order(*application_ids: str) -> list[str]:
    """The ids from luckiest to unluckiest under SEED, so tests can set luck against priority."""
    return sorted(application_ids, key=lambda application_id: lottery_number(SEED, application_id))


@st.composite
def crowded_instances(draw, *, siblings: bool = False, reserves: bool = False):
    """Few offers and everyone eligible, so that every child competes: where rules really collide."""
    offers = [Offer(f"o{i}", draw(st.integers(1, 3)), 11, 3, 17) for i in range(draw(st.integers(1, 2)))]
    single_parent = PriorityCriterion("single_parent")
    the_policy = CampaignPolicy(
        mode=draw(st.sampled_from(tuple(AllocationMode))), criteria=(single_parent,), keep_siblings_together=siblings,
        reserved_shares=(ReservedShare(PriorityCriterion("disability_allowance"), "1/2"),) if reserves else ())
    count = draw(st.integers(2, 8))
    arrivals = draw(st.permutations(range(count)))
    applications = [
        Application(f"app-{i}", f"child-{i}", "family", 8,
                    tuple(draw(st.lists(st.sampled_from([o.offer_id for o in offers]), min_size=1, unique=True))),
                    Facts(single_parent=draw(st.booleans()), disability_allowance=draw(st.booleans())),
                    arrivals[i], draw(st.sampled_from([None, "group-1", "group-2"])) if siblings else None)
        for i in range(count)]
    return the_policy, offers, applications, draw(st.binary(min_size=32, max_size=32))


def single_child_envy(policy: CampaignPolicy, result) -> list[tuple[str, str, str]]:
    """(envious, envied, offer id): a single child not admitted at an offer it ranked above its place
    while a single child the offer orders after it (tier, then tie-break) holds a seat there, unless
    the holder meets a reserved share's criterion there that the envious child does not (the seat
    may be reserved). Sibling groups are not single children; a child whose group was split is."""
    reserve_labels = {reserve.criterion.label for reserve in policy.reserved_shares}
    holders: dict[str, list] = {}
    for outcome in result.outcomes.values():
        if outcome.status == Status.ALLOCATED and not outcome.explanation.sibling_group:
            holders.setdefault(outcome.offer_id, []).append(outcome)

    def place(outcome, offer_id):
        standing = next(o for o in outcome.explanation.offers if o.offer_id == offer_id)
        return (standing.tier, outcome.explanation.tie_break, outcome.application_id), set(standing.criteria_met)

    envy = []
    for outcome in result.outcomes.values():
        if outcome.explanation.sibling_group or outcome.explanation.tie_break is None:
            continue
        for standing in outcome.explanation.offers:
            if standing.standing != Standing.NOT_ADMITTED:
                continue
            mine, my_criteria = place(outcome, standing.offer_id)
            for holder in holders.get(standing.offer_id, ()):
                theirs, their_criteria = place(holder, standing.offer_id)
                if mine < theirs and not (their_criteria - my_criteria) & reserve_labels:
                    envy.append((outcome.application_id, holder.application_id, standing.offer_id))
    return envy


def blocking_units(policy: CampaignPolicy, offers, result) -> list[tuple[str, str]]:
    """(application id, offer id): a unit (a single child, or a sibling group by its first listed
    member) refused an offer it ranked above its place although the offer's choice rule, restated
    here (reserves in order, then open seats, first fit), would admit it together with the holders:
    justified envy, towards single children or groups."""
    capacity = {offer.offer_id: offer.capacity for offer in offers}
    units: dict[str, list] = {}  # offer id → holders as (order, criteria, unit id, size)

    def unit(outcome, offer_id):
        standing = next(o for o in outcome.explanation.offers if o.offer_id == offer_id)
        group = outcome.explanation.sibling_group
        return ((standing.tier, outcome.explanation.tie_break, group[0] if group else outcome.application_id),
                frozenset(standing.criteria_met), group[0] if group else outcome.application_id, len(group) or 1)

    for outcome in result.outcomes.values():
        if outcome.status == Status.ALLOCATED:
            held = unit(outcome, outcome.offer_id)
            units.setdefault(outcome.offer_id, [])
            if held not in units[outcome.offer_id]:
                units[outcome.offer_id].append(held)

    def admits(offer_id, candidates) -> set[str]:
        ordered, admitted, taken = sorted(candidates), set(), 0
        for reserve in policy.reserved_shares:
            seats = reserve.seats(capacity[offer_id])
            for _order, criteria, unit_id, size in ordered:
                if unit_id not in admitted and reserve.criterion.label in criteria and size <= seats:
                    admitted.add(unit_id)
                    seats -= size
                    taken += size
        seats = capacity[offer_id] - taken
        for _order, _criteria, unit_id, size in ordered:
            if unit_id not in admitted and size <= seats:
                admitted.add(unit_id)
                seats -= size
        return admitted

    found = []
    for outcome in result.outcomes.values():
        group = outcome.explanation.sibling_group
        if outcome.explanation.tie_break is None or (group and group[0] != outcome.application_id):
            continue
        for standing in outcome.explanation.offers:
            if standing.standing == Standing.NOT_ADMITTED:
                me = unit(outcome, standing.offer_id)
                if me[2] in admits(standing.offer_id, units.get(standing.offer_id, []) + [me]):
                    found.append((outcome.application_id, standing.offer_id))
    return found
