"""Priority criteria and tiers.

A tier is lexicographic over the ranking criteria, most important first: meeting the first
criterion beats meeting every later one. Written as an integer, tier = 1 + Σ 2^(k-1-i) over the
criteria i that are NOT met (k criteria), so tier 1 meets all of them, tier 2^k none, and a lower
tier always means a higher priority. Criteria are evaluated per offer because residence is.

`Ranking` computes, once, every entrant's place in each offer's order, packed into one integer per
(entrant, offer) so that deferred acceptance, waitlists and cutoffs only compare integers; see its
docstring for the layout.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import accumulate, chain, islice

from services.allocation.domain.entrants import Entry
from services.allocation.domain.model import Application, CampaignPolicy, Offer, PriorityCriterion
from shared.domain.policy import HIGHEST_TRANCHE, CriterionName

# Which fact each criterion reads; sibling_placed reads the preliminary placement of siblings instead.
FACT_READ_BY = {
    CriterionName.SINGLE_PARENT: "single_parent",
    CriterionName.QUOTIENT_TRANCHE_AT_MOST: "quotient_tranche",
    CriterionName.DISABILITY_ALLOWANCE: "disability_allowance",
    CriterionName.SIBLING_PLACED: None,
    CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT: "residence_arrondissement",
    CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN: "not_placed_previous_campaign",
}


def meets(criterion: PriorityCriterion, application: Application, offer: Offer, sibling_offers: frozenset[str]) -> bool:
    """`sibling_offers`: offers where a brother or sister was placed by the preliminary pass."""
    facts = application.facts
    match criterion.name:
        case CriterionName.SINGLE_PARENT:
            return facts.single_parent
        case CriterionName.QUOTIENT_TRANCHE_AT_MOST:
            return facts.effective_tranche <= criterion.max_tranche
        case CriterionName.DISABILITY_ALLOWANCE:
            return facts.disability_allowance
        case CriterionName.SIBLING_PLACED:
            return offer.offer_id in sibling_offers
        case CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT:
            return facts.residence_arrondissement == offer.arrondissement
        case CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN:
            return facts.not_placed_previous_campaign


def criteria_met(application: Application, offer: Offer, criteria: tuple[PriorityCriterion, ...],
                 sibling_offers: frozenset[str]) -> frozenset[PriorityCriterion]:
    return frozenset(criterion for criterion in criteria if meets(criterion, application, offer, sibling_offers))


def tier(met: frozenset[PriorityCriterion], ranking_criteria: tuple[PriorityCriterion, ...]) -> int:
    count = len(ranking_criteria)
    return 1 + sum(1 << (count - 1 - i) for i, criterion in enumerate(ranking_criteria) if criterion not in met)


def facts_read(policy: CampaignPolicy) -> frozenset[str]:
    """The fact fields that can change this policy's allocation: the only ones a published bundle needs."""
    read = {FACT_READ_BY[criterion.name] for criterion in policy.criteria_in_use} - {None}
    if policy.residence_required_arrondissements is not None:
        read.add("residence_arrondissement")
    if policy.draws_lots and policy.lottery_weight_per_unsuccessful_year:
        read.add("unsuccessful_earlier_years")
    return frozenset(read)


def uses_sibling_placed(policy: CampaignPolicy) -> bool:
    return any(criterion.name == CriterionName.SIBLING_PLACED for criterion in policy.criteria_in_use)


EMPTY: frozenset[str] = frozenset()


def _fact_test(criterion: PriorityCriterion) -> Callable[[Application], bool] | None:
    """`meets` for a criterion that reads only the application's facts; None when it reads the offer too."""
    match criterion.name:
        case CriterionName.SINGLE_PARENT:
            return lambda application: bool(application.facts.single_parent)
        case CriterionName.QUOTIENT_TRANCHE_AT_MOST:
            return lambda application: application.facts.effective_tranche <= criterion.max_tranche
        case CriterionName.DISABILITY_ALLOWANCE:
            return lambda application: bool(application.facts.disability_allowance)
        case CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN:
            return lambda application: bool(application.facts.not_placed_previous_campaign)
    return None


class _QuotientBits(dict):
    """Quotient tranche (None: no quotient on file) → the bits of the quotient_tranche_at_most
    criteria it meets, as `meets` decides."""

    def __init__(self):
        super().__init__()
        self.thresholds: list[tuple[int, int]] = []  # (max_tranche, bit)

    def add(self, max_tranche: int, bit: int) -> None:
        self.thresholds.append((max_tranche, bit))
        self.clear()

    def __missing__(self, tranche) -> int:
        effective = HIGHEST_TRANCHE if tranche is None else tranche  # as Facts.effective_tranche
        bits = self[tranche] = sum(bit for most, bit in self.thresholds if effective <= most)
        return bits


class Ranking:
    """Each entrant's priority at each offer it ranked: what deferred acceptance works on.

    Entrants are numbered i = 0, 1, … in the order of their ids (as in `Entry`), and take turns
    r = 0, 1, … in the order every offer uses inside a tier: tie-break (lottery number or arrival
    rank), then entrant id. An entrant's place at an offer it ranked is one integer, its key:

        key = ((tier - 1) × n + r) << shift  |  criteria met << position_bits  |  position

    with n entrants. Comparing keys compares (tier, tie-break, entrant id), the offer's order. The
    key also tells who it is (`at_turn[r]` is i), the criteria met there (bit b for
    `policy.criteria_in_use[b]`, met by every member of a sibling group) and the offer's position
    in the entrant's choices. With a few criteria, a key of a 100,000-entrant campaign still fits in
    one 30-bit digit of a Python integer, which keeps comparing and decoding them fast.

    The choices are kept as slots, one per (entrant, choice), in flat lists: entrant i's choices are
    the slots `first_slot[i]` to `first_slot[i + 1]`, best first, `slot_offers[s]` the offer's index
    and `slot_keys[s]` the key. Deferred acceptance walks slots; flat lists are made in one pass,
    where 100,000 tuples, one per entrant, cost a Python step each to make and again to flatten.
    """

    def __init__(self, entry: Entry, offer_index: Mapping[str, int], offers: list[Offer], policy: CampaignPolicy):
        self.entry = entry
        self.count = entry.count
        self.lengths = lengths = list(map(len, entry.choices))  # choices per entrant
        self.first_slot = [0, *accumulate(lengths)]
        self.slot_offers = list(map(offer_index.__getitem__, chain.from_iterable(entry.choices)))
        self.sizes = sizes = entry.sizes()
        self.at_turn = at_turn = sorted(range(self.count), key=entry.tie_breaks.__getitem__)  # stable: ids break ties
        self.turn = turn = [0] * self.count  # r of each entrant
        for r, i in enumerate(at_turn):
            turn[i] = r
        self.sizes_by_turn = [sizes[i] for i in at_turn]
        self.criteria = policy.criteria_in_use
        self.ranking_criteria = policy.ranking_criteria
        longest = max(lengths, default=1)
        self.position_bits = max(1, (longest - 1).bit_length())
        self.shift = self.position_bits + len(self.criteria)
        self.position_mask = (1 << self.position_bits) - 1
        self.criteria_mask = (1 << len(self.criteria)) - 1
        self._offers = offers
        self._prefix: dict[int, int] = {}
        self._labels: dict[int, tuple[str, ...]] = {}
        self.slot_keys: list[int] = []

    def choices_of(self, i: int) -> list[int]:
        """The offers (indices) entrant i may be allocated, best first."""
        return self.slot_offers[self.first_slot[i]:self.first_slot[i + 1]]

    def keys_of(self, i: int) -> list[int]:
        """Entrant i's key at each of its choices, in their order."""
        return self.slot_keys[self.first_slot[i]:self.first_slot[i + 1]]

    # --- decoding a key -------------------------------------------------------------------------
    def entrant_of(self, key: int) -> int:
        return self.at_turn[(key >> self.shift) % self.count]

    def tier_of(self, key: int) -> int:
        return (key >> self.shift) // self.count + 1

    def labels(self, met: int) -> tuple[str, ...]:
        """The labels of the criteria met, in the policy's order."""
        found = self._labels.get(met)
        if found is None:
            found = self._labels[met] = tuple(criterion.label for b, criterion in enumerate(self.criteria)
                                              if met >> b & 1)
        return found

    def label_table(self):
        """`labels`, as a table indexed by the criteria met."""
        if len(self.criteria) <= 12:
            return [self.labels(met) for met in range(1 << len(self.criteria))]
        ranking = self

        class Table(dict):
            def __missing__(self, met: int) -> tuple[str, ...]:
                return ranking.labels(met)
        return Table()

    def bit(self, criterion: PriorityCriterion) -> int:
        return 1 << self.criteria.index(criterion)

    # --- computing the keys ---------------------------------------------------------------------
    def prioritise(self, sibling_offers: Mapping[str, frozenset[str]] | None = None,
                   only: set[int] | None = None) -> None:
        """Compute the keys. `sibling_offers`: per application id, the offers where a brother or sister
        was placed by the preliminary pass (sibling_placed). `only`: recompute these entrants only."""
        if only is None:
            self.slot_keys = self._single_children_keys()
            recompute = sorted(self.entry.groups)  # sibling groups: every member counts
        else:
            recompute = sorted(only)
        fact_tests, resident_bit, sibling_bit = [], 0, 0
        for b, criterion in enumerate(self.criteria):
            test = _fact_test(criterion)
            if test is not None:
                fact_tests.append((1 << b, test))
            elif criterion.name == CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT:
                resident_bit = 1 << b
            else:
                sibling_bit = 1 << b
        if not sibling_offers:
            sibling_bit = 0  # nobody meets it
        arrondissement = [offer.arrondissement for offer in self._offers]
        offer_ids = [offer.offer_id for offer in self._offers]
        shift, turn, keys, first_slot = self.shift, self.turn, self.slot_keys, self.first_slot
        for i in recompute:
            choices = self.choices_of(i)
            met_at = None
            for member in self.entry.members(i):
                base = 0
                for bit, test in fact_tests:
                    if test(member):
                        base |= bit
                if resident_bit:
                    home = member.facts.residence_arrondissement
                    mine = [base | resident_bit if home == arrondissement[o] else base for o in choices]
                else:
                    mine = [base] * len(choices)
                if sibling_bit:
                    theirs = sibling_offers.get(member.application_id, EMPTY)
                    if theirs:
                        mine = [met | sibling_bit if offer_ids[o] in theirs else met for met, o in zip(mine, choices)]
                met_at = mine if met_at is None else [a & b for a, b in zip(met_at, mine)]
            who = turn[i] << shift
            keys[first_slot[i]:first_slot[i + 1]] = [self._prefix_of(met) + who + position
                                                     for position, met in enumerate(met_at)]

    def _single_children_keys(self) -> list[int]:
        """Every slot's key as if its entrant were one child, its first application (nobody meeting
        sibling_placed): the keys of every single child, in one pass over all of them rather than
        entrant by entrant, and reading each application's facts once (in a large campaign they are
        spread over memory, and each read from it costs more than the arithmetic)."""
        single_parent = disability = not_placed = resident = 0
        quotient = _QuotientBits()  # quotient tranche → the bits of the thresholds it is within
        for b, criterion in enumerate(self.criteria):
            bit = 1 << b
            match criterion.name:  # as `meets`
                case CriterionName.SINGLE_PARENT:
                    single_parent |= bit
                case CriterionName.QUOTIENT_TRANCHE_AT_MOST:
                    quotient.add(criterion.max_tranche, bit)
                case CriterionName.DISABILITY_ALLOWANCE:
                    disability |= bit
                case CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN:
                    not_placed |= bit
                case CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT:
                    resident |= bit
        prefix = self._prefix_table()
        arrondissement = [offer.arrondissement for offer in self._offers]
        shift = self.shift
        # The criteria met by every application given, in the order given (their order in memory).
        all_facts = [application.facts for application in self.entry.given]
        met_given = [(single_parent if facts.single_parent else 0) | (disability if facts.disability_allowance else 0)
                     | (not_placed if facts.not_placed_previous_campaign else 0) | quotient[facts.quotient_tranche]
                     for facts in all_facts]
        home_given = [facts.residence_arrondissement for facts in all_facts] if resident else None
        # All the keys in one comprehension, without a call per entrant.
        slot_offers, first_slot = self.slot_offers, self.first_slot
        return [prefix[met | resident if home == arrondissement[o] else met] + who + position
                for place, turn, start, end in zip(self.entry.first_given, self.turn, first_slot,
                                                   islice(first_slot, 1, None))
                for met, home, who in ((met_given[place], home_given[place] if resident else None, turn << shift),)
                for position, o in enumerate(slot_offers[start:end])]

    def _prefix_table(self):
        """`_prefix_of`, as a table indexed by the criteria met."""
        if len(self.criteria) <= 12:
            return [self._prefix_of(met) for met in range(1 << len(self.criteria))]
        ranking = self

        class Table(dict):
            def __missing__(self, met: int) -> int:
                return ranking._prefix_of(met)
        return Table()

    def _prefix_of(self, met: int) -> int:
        """The part of a key that the tier and the criteria met make."""
        found = self._prefix.get(met)
        if found is None:
            tier_ = tier(frozenset(c for b, c in enumerate(self.criteria) if met >> b & 1), self.ranking_criteria)
            found = self._prefix[met] = (((tier_ - 1) * self.count) << self.shift) | (
                met << self.position_bits)
        return found
