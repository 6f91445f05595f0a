"""Explanations a parent can read: where they stood at each offer and whom they had to beat."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, ValuesView
from dataclasses import fields
from itertools import compress

from services.allocation.domain.deferred_acceptance import Matching
from services.allocation.domain.entrants import Entry
from services.allocation.domain.lottery import format_number, tickets
from services.allocation.domain.model import Application, CampaignPolicy
from services.allocation.domain.priorities import Ranking
from services.allocation.domain.result import (
    Choice,
    Cutoff,
    Decided,
    Explanation,
    OfferExplanation,
    Outcome,
    Reason,
    ReasonCode,
    Standing,
    Status,
    TieBreak,
    WaitlistPosition,
)
from services.allocation.domain.seats import SeatPlan


def cutoffs(ranking: Ranking, plans: list[SeatPlan], matching: Matching) -> list[tuple[Cutoff, ...]]:
    """Per offer (by index), the last applicant admitted on each kind of seats: reserves first, then open."""
    result = []
    for plan, seats in zip(plans, matching.seats):
        kinds = plan.seat_kinds
        found = []
        for seat_kind in kinds:
            last = max((holders[-1] for kind, holders in zip(kinds, seats.held) if kind == seat_kind and holders),
                       default=None)
            if last is not None:
                tie_break = ranking.entry.tie_breaks[ranking.entrant_of(last)]
                found.append(Cutoff(seat_kind, ranking.tier_of(last), tie_break))
        result.append(tuple(found))
    return result


# Quick constructors for the result dataclasses built per application: a large campaign builds
# about a million of them, and the generated __init__ of a frozen dataclass sets every field through
# object.__setattr__, which took as long as everything else in the explanations. These fill the
# instance's __dict__ directly: the objects made are the same (same class and fields, equal, same
# hash and repr). `_check_quick` refuses, at import, a constructor that no longer matches its class.
_new = object.__new__


def _offer_explanation(offer_id, rank, tier, criteria_met, standing, cutoffs, waitlist_position):
    made = _new(OfferExplanation)
    fields_ = made.__dict__
    fields_["offer_id"] = offer_id
    fields_["rank"] = rank
    fields_["tier"] = tier
    fields_["criteria_met"] = criteria_met
    fields_["standing"] = standing
    fields_["cutoffs"] = cutoffs
    fields_["waitlist_position"] = waitlist_position
    return made


def _explanation(tie_break_kind, tie_break, tickets, sibling_group, offers):
    made = _new(Explanation)
    fields_ = made.__dict__
    fields_["tie_break_kind"] = tie_break_kind
    fields_["tie_break"] = tie_break
    fields_["tickets"] = tickets
    fields_["sibling_group"] = sibling_group
    fields_["offers"] = offers
    return made


def _outcome(application_id, status, offer_id, waitlist, reasons, explanation):
    made = _new(Outcome)
    fields_ = made.__dict__
    fields_["application_id"] = application_id
    fields_["status"] = status
    fields_["offer_id"] = offer_id
    fields_["waitlist"] = waitlist
    fields_["reasons"] = reasons
    fields_["explanation"] = explanation
    return made


def _waitlist_position(offer_id, position):
    made = _new(WaitlistPosition)
    fields_ = made.__dict__
    fields_["offer_id"] = offer_id
    fields_["position"] = position
    return made


def _check_quick(cls, make) -> None:
    parameters = make.__code__.co_varnames[:make.__code__.co_argcount]
    if (parameters != tuple(field.name for field in fields(cls)) or hasattr(cls, "__post_init__")
            or "__slots__" in vars(cls) or not all(field.init for field in fields(cls))):
        raise TypeError(f"{make.__name__} no longer builds a {cls.__name__}: update it with the class")


for _cls, _make in ((OfferExplanation, _offer_explanation), (Explanation, _explanation), (Outcome, _outcome),
                    (WaitlistPosition, _waitlist_position)):
    _check_quick(_cls, _make)


class Outcomes(Mapping[str, Outcome]):
    """The outcome of each application (by id, in the order of ids), each rendered when read.

    The core keeps the facts of its decisions (entry, ranking, matching, waitlist positions, cutoffs) and builds
    an application's `Outcome`, with its explanation, only when asked: a large campaign's 100,000 explanations
    were a third of the core's time. A draw reads `decided()`, the same facts as tuples, and writes them without
    making the objects. Reading one outcome twice gives equal outcomes (not always the same objects). Equal to,
    and printed as, the dict of every outcome.

    An application's explanation lists the eligible offers its entrant ranked, each with its tier and criteria
    there, its standing, the cutoffs when not admitted, and the application's waitlist position (a sibling
    group's members hold adjacent ones)."""

    def __init__(self, applications: list[Application], ids: list[str], entry: Entry, policy: CampaignPolicy,
                 ranking: Ranking, matching: Matching, offer_ids: list[str],
                 offer_cutoffs: list[tuple[Cutoff, ...]], waitlist_positions: list[int | None]):
        """`applications` in the order of `entry`, whose ids are `ids`."""
        self._applications, self._ids, self._entry, self._policy = applications, ids, entry, policy
        self._ranking, self._matching, self._offer_ids = ranking, matching, offer_ids
        self._offer_cutoffs, self._waitlist_positions = offer_cutoffs, waitlist_positions
        self._labels = ranking.label_table()
        self._keys: list[str] = ids  # in the order read; the applications' ids unless renamed
        self._at: list[int] | None = None  # per key, the application's place in `ids`; None: the same order
        self._real: Mapping[str, str] | None = None  # id given to the core → the id told (renamed)
        self._added: Mapping[str, tuple[Reason, ...]] = {}
        self._source: Outcomes | None = None  # renamed: the outcomes whose facts these are
        self._forget()
        self._full: dict[str, Reason] = {}  # offer id → the reason given when its waitlist had no room
        # Equal choices are made once and shared: without a waitlist position many are alike (same offer, rank,
        # tier, criteria and standing), and so are their explanations' objects when rendered.
        self._same: dict[tuple, Choice] = {}  # (offer, rank, tier, criteria met, standing) → choice
        self._objects: dict[int, tuple[Choice, OfferExplanation]] = {}  # id of a shared choice → its object

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, application_id: object) -> bool:
        return application_id in self._places()

    def __getitem__(self, application_id: str) -> Outcome:
        return self._outcome(self._decided(self._places()[application_id]))

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def values(self) -> ValuesView[Outcome]:
        return _Values(self)

    def decided(self) -> list[Decided]:
        """Every application's facts, in the order of the keys; made once."""
        if self._decided_all is None:
            self._decided_all = list(map(self._decided, self._order()))
        return self._decided_all

    def with_reasons(self, added: Mapping[str, tuple[Reason, ...]]) -> Outcomes:
        """The same outcomes, those of the applications in `added` with these reasons after their own (not renamed)."""
        if self._source is not None:
            raise ValueError("reasons are added to the core's outcomes, before they are renamed")
        copy = self._copy()
        copy._added = {**self._added, **{application_id: self._added.get(application_id, ()) + reasons
                                         for application_id, reasons in added.items()}}
        return copy

    def renamed(self, told: Mapping[str, str]) -> Outcomes:
        """The same outcomes told with other ids (theirs and their sibling groups'): `told` maps each id told, in
        the order to read them, to the id the core was given. Their facts are these outcomes' (made once), renamed."""
        copy = self._copy()
        places = self._places()
        copy._keys = list(told)
        copy._at = [places[given] for given in told.values()]
        copy._real = {given: id_told for id_told, given in told.items()}
        copy._source = self
        return copy

    def statuses(self) -> dict[Status, int]:
        """How many applications have each status, without rendering them. An entrant's members share its
        status; an application that never entered is rejected."""
        assigned, sizes = self._matching.assigned, self._ranking.sizes
        width = 1 << self._ranking.position_bits
        waitlist_positions = self._waitlist_positions
        placed = sum(compress(sizes, [offer >= 0 for offer in assigned]))
        # Unplaced, an entrant seeks every offer it ranked: its positions, if any, are among its slots.
        waitlisted = sum(sizes[i] for i, offer in enumerate(assigned)
                         if offer < 0 and any(waitlist_positions[i * width:(i + 1) * width]))
        return {Status.ALLOCATED: placed, Status.WAITLISTED: waitlisted,
                Status.REJECTED: len(self._ids) - placed - waitlisted}

    def _copy(self) -> Outcomes:
        copy = object.__new__(Outcomes)
        copy.__dict__.update(self.__dict__)
        copy._forget()
        return copy

    def _forget(self) -> None:
        self._index: dict[str, int] | None = None
        self._decided_all: list[Decided] | None = None

    def _order(self) -> Iterable[int]:
        return range(len(self._ids)) if self._at is None else self._at

    def _places(self) -> dict[str, int]:
        if self._index is None:
            self._index = dict(zip(self._keys, self._order()))
        return self._index

    def _decided(self, k: int) -> Decided:
        if self._source is not None:
            return self._renamed(self._source.decided()[k])
        entry, ranking = self._entry, self._ranking
        application_id, reasons, i = self._ids[k], entry.reasons[k], entry.entrant_of[k]
        if i < 0:
            return Decided(application_id, Status.REJECTED, None, (), reasons + self._added.get(application_id, ()),
                           entry.tie_break_kind, None, tickets(self._policy, self._applications[k]), (), ())
        member, offer_ids, offer_cutoffs = entry.member_of[k], self._offer_ids, self._offer_cutoffs
        shift, tiers, position_bits, position_mask, criteria_mask = (
            ranking.shift, ranking.count, ranking.position_bits, ranking.position_mask, ranking.criteria_mask)
        labels, same, waitlist_positions = self._labels, self._same, self._waitlist_positions
        at = self._matching.position[i]
        slots = i << position_bits
        start, end = ranking.first_slot[i], ranking.first_slot[i + 1]
        choices, waitlist = [], []
        for offer, key, rank in zip(ranking.slot_offers[start:end], ranking.slot_keys[start:end], entry.ranks[i]):
            choice = key & position_mask
            if choice < at:
                waitlist_position = waitlist_positions[slots | choice]
                if waitlist_position is not None:  # the only choices that cannot be shared
                    offer_id = offer_ids[offer]
                    if member:
                        waitlist_position += member
                    waitlist.append((offer_id, waitlist_position))
                    choices.append(Choice(offer_id, rank, (key >> shift) // tiers + 1,
                                          labels[(key >> position_bits) & criteria_mask], Standing.NOT_ADMITTED,
                                          offer_cutoffs[offer], waitlist_position))
                    continue
                standing = Standing.NOT_ADMITTED
            else:
                standing = Standing.ADMITTED if choice == at else Standing.NOT_NEEDED
            tier, met = (key >> shift) // tiers + 1, (key >> position_bits) & criteria_mask
            alike = (offer, rank, tier, met, standing)
            shared = same.get(alike)
            if shared is None:
                shared = same[alike] = Choice(offer_ids[offer], rank, tier, labels[met], standing,
                                              offer_cutoffs[offer] if standing is Standing.NOT_ADMITTED else (), None)
            choices.append(shared)
        offer = self._matching.assigned[i]
        if offer >= 0:
            status, offer_id = Status.ALLOCATED, offer_ids[offer]
        elif waitlist:
            status, offer_id = Status.WAITLISTED, None
        else:
            status, offer_id = Status.REJECTED, None
            full = self._full
            reasons += tuple(full.get(choice) or full.setdefault(choice, Reason(ReasonCode.WAITLIST_FULL, choice))
                             for choice in entry.choices[i])
        members = entry.groups.get(i) if entry.groups else None
        group = tuple(m.application_id for m in members) if members else ()
        return Decided(application_id, status, offer_id, tuple(waitlist), reasons + self._added.get(application_id, ()),
                       entry.tie_break_kind, entry.tie_breaks[i], entry.tickets[i], group, tuple(choices))

    def _renamed(self, decided: Decided) -> Decided:
        real = self._real
        (application_id, status, offer_id, waitlist, reasons, tie_break_kind, tie_break, tickets_, sibling_group,
         choices) = decided
        return Decided(real[application_id], status, offer_id, waitlist, reasons, tie_break_kind, tie_break, tickets_,
                       tuple(real[member] for member in sibling_group) if sibling_group else (), choices)

    def _outcome(self, decided: Decided) -> Outcome:
        objects, explained = self._objects, []
        for choice in decided.choices:
            if choice.waitlist_position is None:  # shared: so is its object
                known = objects.get(id(choice))
                if known is None:
                    known = objects[id(choice)] = (choice, _offer_explanation_of(choice))
                explained.append(known[1])
            else:
                explained.append(_offer_explanation_of(choice))
        return _outcome_of(decided, tuple(explained))


def _offer_explanation_of(choice: Choice) -> OfferExplanation:
    offer_id, rank, tier, criteria_met, standing, cutoffs, waitlist_position = choice
    return _offer_explanation(offer_id, rank, tier, criteria_met, standing, cutoffs, waitlist_position)


def _outcome_of(decided: Decided, offers: tuple[OfferExplanation, ...]) -> Outcome:
    (application_id, status, offer_id, waitlist, reasons, tie_break_kind, tie_break, tickets_, sibling_group,
     _) = decided
    return _outcome(application_id, status, offer_id,
                    tuple(_waitlist_position(offer, position) for offer, position in waitlist), reasons,
                    _explanation(tie_break_kind, tie_break, tickets_, sibling_group, offers))


class _Values(ValuesView):
    """Every outcome in order, without looking each id up."""

    def __iter__(self) -> Iterator[Outcome]:
        outcomes = self._mapping
        return (outcomes._outcome(outcomes._decided(k)) for k in outcomes._order())


class DecidedOf:
    """The facts of outcomes made elsewhere (a decision on arrival, a test's), as `Outcomes.decided` gives them:
    equal offer explanations shared by the outcomes give one shared choice."""

    def __init__(self):
        self._choices: dict[int, tuple[OfferExplanation, Choice]] = {}  # id of a shared object → its choice

    def __call__(self, outcome: Outcome) -> Decided:
        explanation = outcome.explanation
        return Decided(outcome.application_id, outcome.status, outcome.offer_id,
                       tuple((entry.offer_id, entry.position) for entry in outcome.waitlist), outcome.reasons,
                       explanation.tie_break_kind, explanation.tie_break, explanation.tickets,
                       explanation.sibling_group, self.choices(explanation.offers))

    def choices(self, offers: tuple[OfferExplanation, ...]) -> tuple[Choice, ...]:
        choices = []
        for offer in offers:
            if offer.waitlist_position is None:
                known = self._choices.get(id(offer))
                if known is None:
                    known = self._choices[id(offer)] = (offer, _choice_of(offer))
                choices.append(known[1])
            else:
                choices.append(_choice_of(offer))
        return tuple(choices)


def _choice_of(offer: OfferExplanation) -> Choice:
    return Choice(offer.offer_id, offer.rank, offer.tier, offer.criteria_met, offer.standing, offer.cutoffs,
                  offer.waitlist_position)


def decided(outcomes: Mapping[str, Outcome]) -> list[Decided]:
    """The facts of every outcome, in order: the core's as it keeps them, others converted."""
    if isinstance(outcomes, Outcomes):
        return outcomes.decided()
    return list(map(DecidedOf(), outcomes.values()))


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
    ReasonCode.SIBLINGS_SPLIT_TO_SETTLE: (
        "keeping these brothers and sisters together left no allocation where every child is placed "
        "in turn (each placement of the group pushed out a child with a better number, whose return "
        "pushed the group out again), so each child applied alone"),
    ReasonCode.WAITLIST_FULL: "not placed and its waitlist is full",
    ReasonCode.FACT_NOT_VALIDATED: "criterion not counted: the fact was declared, not yet validated by a city agent",
}


def describe(outcome: Outcome) -> str:
    """The explanation in plain English; the portal renders the structured one in French."""
    explanation = outcome.explanation
    lines = [{Status.ALLOCATED: f"Placed at {outcome.offer_id}.",
              Status.WAITLISTED: "Not placed yet: on the waitlists below.",
              Status.REJECTED: "Not placed."}[outcome.status]]
    lines += [f"{reason.offer_id or reason.criterion or 'Application'}: {_REASON_TEXT[reason.code]}."
              for reason in outcome.reasons]
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
            if explanation.sibling_group and any((cutoff.tier, cutoff.tie_break) > (offer.tier, explanation.tie_break)
                                                 for cutoff in offer.cutoffs):
                count = len(explanation.sibling_group)
                lines.append(f"Your {count} children needed {count} seats together there: when their turn came "
                             "fewer were left, and a group is never split to fit, so children after them took "
                             "the seats left.")
            if offer.waitlist_position is not None:
                lines.append(f"You are number {offer.waitlist_position} on its waitlist.")
    return "\n".join(lines)


def _tie_break_text(kind: TieBreak, value: int) -> str:
    """Sixteen hexadecimal digits tell numbers apart in practice; the structured explanation has them all."""
    return f"lottery number 0x{format_number(value)[:16]}…" if kind == TieBreak.LOTTERY else f"arrival rank {value}"
