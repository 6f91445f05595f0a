"""An offer's seats and whom it admits among the applicants proposing to it.

Reserved blocks are filled first: for each reserved share, in the policy's order,
floor(capacity × share) seats go to the highest-ordered proposers meeting its criterion. Then the
rest of the capacity, including reserved seats nobody qualifying claimed, goes to the
highest-ordered of everyone left. With one reserve this is the "minority reserve" rule of Hafalir,
Yenmez and Yildirim (2013), with which deferred acceptance stays stable and strategy-proof for
children; with several, filled in sequence, the property tests check both on random campaigns.

A sibling group takes seats only if all its members fit in what is left; one that does not fit is
passed over for the next proposer that does (first fit), so that seats are not left empty.

`Seats.choose` applies this rule to a set of proposers from scratch. Deferred acceptance asks it
again each time someone proposes, with the offer's holders plus the newcomer; `Seats.admit` gives
the same answer without starting over in the two cases that make up almost every proposal in a
large campaign (see its docstring).
"""
from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass

from services.allocation.domain.model import CampaignPolicy, Offer, PriorityCriterion
from services.allocation.domain.priorities import Ranking

OPEN_SEATS = "open"
NOBODY = -1  # `Seats.admit_child`: nobody turned away (keys are never negative)
INTRICATE = -2  # `Seats.admit_child`: not worked out incrementally


@dataclass(frozen=True)
class ReserveBlock:
    criterion: PriorityCriterion
    seats: int


@dataclass(frozen=True)
class SeatPlan:
    offer: Offer
    reserves: tuple[ReserveBlock, ...]

    @classmethod
    def for_offer(cls, offer: Offer, policy: CampaignPolicy) -> SeatPlan:
        return cls(offer, tuple(ReserveBlock(reserve.criterion, reserve.seats(offer.capacity))
                                for reserve in policy.reserved_shares))

    @property
    def seat_kinds(self) -> list[str]:
        """Reserves first, in the policy's order, then the open seats."""
        return [block.criterion.label for block in self.reserves] + [OPEN_SEATS]


class Seats:
    """The holders of one offer's seats while deferred acceptance runs.

    Holders are keys (see `Ranking`). `held[b]` lists, in increasing order, the holders of reserve
    block b, and `held[-1]` the holders of open seats; read in that order they are the order in
    which the choice rule admitted them. `groups` maps the holders that are sibling groups to their
    sizes. After each choice the offer remembers what the rule left: `left[b]` seats in each block,
    `open_left` open seats (also the offer's free seats), and `top`, the last holder in the offer's
    order.
    """
    __slots__ = ("plan", "capacity", "block_seats", "block_bits", "sizes", "shift", "count",
                 "held", "left", "open_left", "reserved", "spare", "top", "groups")

    def __init__(self, plan: SeatPlan, ranking: Ranking):
        self.plan = plan
        self.capacity = plan.offer.capacity
        self.block_seats = [block.seats for block in plan.reserves]
        # A block's criterion as a bit of the keys, where the criteria met are.
        self.block_bits = [ranking.bit(block.criterion) << ranking.position_bits for block in plan.reserves]
        self.sizes, self.shift, self.count = ranking.sizes_by_turn, ranking.shift, ranking.count
        self._settle([[] for _ in range(len(self.block_seats) + 1)], list(self.block_seats), self.capacity, {})

    def _settle(self, held: list[list[int]], left: list[int], open_left: int, groups: dict[int, int]) -> None:
        self.held, self.left, self.open_left, self.groups = held, left, open_left, groups
        self.reserved = sum(self.block_seats) - sum(left)
        spare = 0
        for bits, seats in zip(self.block_bits, left):
            if seats:
                spare |= bits
        self.spare = spare  # the criteria that would still get a reserved seat
        self.top = max((keys[-1] for keys in held if keys), default=-1)

    def holders(self) -> list[int]:
        """In the order the choice rule admitted them: each reserve, then the open seats."""
        return [key for keys in self.held for key in keys]

    def turns_away_at_once(self, key: int, size: int) -> bool:
        """Whether the rule would turn this newcomer away and change nothing else.

        True when it comes after every holder, and neither a reserve it qualifies for nor the open
        seats have room left for it: the rule then decides for the holders exactly as before (it
        reads proposers in order), and reaches the newcomer with nothing left.
        """
        return key > self.top and size > self.open_left and not key & self.spare

    def admit(self, key: int, size: int) -> list[int]:
        """Choose among the holders and the newcomer; return those turned away, in the order deferred
        acceptance queues them (holders in their admission order, then the newcomer)."""
        if size == 1:
            turned_away = self.admit_child(key)
            if turned_away != INTRICATE:
                return [] if turned_away == NOBODY else [turned_away]
        return self.choose_again(key, size)

    def choose_again(self, key: int, size: int) -> list[int]:
        """`admit` from scratch: the rule applied to the holders and the newcomer."""
        held = self.holders()
        groups = dict(self.groups)
        if size > 1:
            groups[key] = size
        chosen = self.choose(sorted([*held, key]), groups)
        self._settle(*chosen)
        admitted = set().union(*chosen[0])
        return [k for k in [*held, key] if k not in admitted]

    def admit_child(self, key: int) -> int:
        """`admit` for one child, worked out from the holders' seats instead of from scratch: the key
        turned away (the newcomer's or a holder's), NOBODY, or INTRICATE, having changed nothing, in
        the rare case where a sibling group makes that too intricate (then ask `choose_again`).

        The rule reads proposers in order, so it decides as before for everyone ordered before the
        newcomer, at every step (each reserve block, then the open seats). At a step where seats were
        left, the child arriving there takes one and nothing else changes: everyone after it still
        fits, with one seat less. At a full step, the child arriving takes a seat only if it comes
        before the step's last holder; with one seat less after the child, the only holder who no
        longer fits is the last one, who had exactly the seats it took, and moves on to the next step.
        That is all, unless the last holder is a sibling group: its seats but one would then be left
        to those after it, which is the intricate case. So a child taken by a block frees nothing but
        one open seat, and a step passes on at most one child. Where an open seat has to go, the last
        open holder loses it, group or not: nobody comes after it.
        """
        groups = self.groups
        if groups and self._swaps_out_a_group(key):
            return INTRICATE
        held = self.held
        arriving = key
        for block, bits in enumerate(self.block_bits):
            if arriving & bits:
                holders = held[block]
                left = self.left
                if left[block]:  # a seat left: taken, and nothing else changes in the blocks
                    insort(holders, arriving)
                    arriving = NOBODY
                    left[block] -= 1
                    self.reserved += 1
                    if not left[block]:
                        self.spare = 0
                        for bits_, seats in zip(self.block_bits, left):
                            if seats:
                                self.spare |= bits_
                    break
                if holders and arriving < holders[-1]:  # swapped for the block's last holder
                    swapped = holders.pop()
                    insort(holders, arriving)
                    arriving = swapped
        open_holders = held[-1]
        if arriving == NOBODY:  # one open seat fewer, the block having taken one
            if self.open_left:
                self.open_left -= 1
                turned_away = NOBODY
            else:
                turned_away = open_holders.pop()
                self.open_left = groups.pop(turned_away, 1) - 1 if groups else 0
        elif self.open_left:
            insort(open_holders, arriving)
            self.open_left -= 1
            turned_away = NOBODY
        elif open_holders and arriving < open_holders[-1]:
            turned_away = open_holders.pop()
            insort(open_holders, arriving)
        else:
            turned_away = arriving
            if turned_away == key:
                return key  # nothing moved
        # The holders are those before, with the newcomer, without the one turned away.
        top = self.top
        if turned_away == top:
            top = -1
            for holders in held:
                if holders and holders[-1] > top:
                    top = holders[-1]
            self.top = top
        elif key > top:
            self.top = key
        return turned_away

    def _swaps_out_a_group(self, key: int) -> bool:
        """Whether, in `admit_child`, the child would take a seat from a sibling group that was a full
        step's last holder (the intricate case)."""
        arriving, groups = key, self.groups
        for block, bits in enumerate(self.block_bits):
            if arriving & bits:
                holders = self.held[block]
                if self.left[block]:
                    return False  # nothing is swapped in the blocks, and only open seats can be lost
                if holders and arriving < holders[-1]:
                    if holders[-1] in groups:
                        return True
                    arriving = holders[-1]
        open_holders = self.held[-1]
        return bool(not self.open_left and open_holders and arriving < open_holders[-1]
                    and open_holders[-1] in groups)

    def choose(self, ordered: list[int], groups: dict[int, int]) -> tuple[list[list[int]], list[int], int,
                                                                          dict[int, int]]:
        """The choice rule among `ordered` (keys in increasing order; `groups`: the sizes of those that
        are sibling groups, every other one being one child), from scratch: the holders of each
        reserve block and of the open seats, the seats left in each block and open, and the sizes of
        the holders that are groups."""
        held, left_in_blocks = [], []
        admitted: set[int] = set()
        reserved_taken = 0
        for seats, bits in zip(self.block_seats, self.block_bits):
            qualifying = [key for key in ordered if key & bits and key not in admitted] if admitted \
                else [key for key in ordered if key & bits]
            holders, left = _first_fit(qualifying, seats, groups)
            admitted.update(holders)
            reserved_taken += seats - left
            held.append(holders)
            left_in_blocks.append(left)
        rest = [key for key in ordered if key not in admitted] if admitted else ordered
        holders, open_left = _first_fit(rest, self.capacity - reserved_taken, groups)
        held.append(holders)
        admitted_groups = {key: size for key, size in groups.items() if key in admitted or key in holders} \
            if groups else {}
        return held, left_in_blocks, open_left, admitted_groups

    def admitting_everyone(self, keys: list[int]) -> tuple | None:
        """The rule's choice among `keys` if it admits them all, else None."""
        groups = {}
        for key in keys:
            size = self.sizes[(key >> self.shift) % self.count]
            if size > 1:
                groups[key] = size
        chosen = self.choose(sorted(keys), groups)
        return chosen if sum(map(len, chosen[0])) == len(keys) else None

    def replace(self, chosen: tuple) -> None:
        self._settle(*chosen)


def _first_fit(candidates: list[int], seats: int, groups: dict[int, int]) -> tuple[list[int], int]:
    """The candidates taken, in order, while seats are left, passing over a group too large for the
    seats still left; and the seats left. Single children go by runs, between the groups."""
    if seats <= 0:
        return [], seats
    positions = sorted(index for index in (_index(candidates, key) for key in groups) if index is not None) \
        if groups else ()
    taken: list[int] = []
    start = 0
    for index in positions:
        run = index - start  # single children before the group
        if run >= seats:
            taken += candidates[start:start + seats]
            return taken, 0
        taken += candidates[start:index]
        seats -= run
        size = groups[candidates[index]]
        if size <= seats:
            taken.append(candidates[index])
            seats -= size
            if seats == 0:
                return taken, 0
        start = index + 1
    rest = candidates[start:start + seats]
    taken += rest
    return taken, seats - len(rest)


def _index(ordered: list[int], key: int) -> int | None:
    index = bisect_left(ordered, key)
    return index if index < len(ordered) and ordered[index] == key else None
