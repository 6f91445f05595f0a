"""Time the allocation core on a realistic random campaign (issue 5: 100,000 applications, 3 choices,
1,000 offers, under 2 s on the 2-core reference machine).

    python -m bench.allocation_core                                  # 100,000 × 1,000, 3 choices
    python -m bench.allocation_core --applications 20000 --offers 300
    python -m bench.allocation_core --label after --write            # record the row in docs/PERFORMANCE.md
    python -m bench.allocation_core --profile                        # where the time goes (cProfile)
    python -m bench.allocation_core --digest                         # what it decided, to compare two trees

The campaign: priority_lottery ranking by three criteria (disability allowance, residence in the
offer's arrondissement, not placed in the previous campaign), a 20 % share of every offer reserved
for quotient tranches 1–3, one extra lottery ticket per unsuccessful earlier year, siblings kept
together (about 2 % of applications are in sibling groups of 2 or 3), and Zipf-like popularity:
each child ranks `--choices` offers open to its age, drawn with weight 1/rank of the offer's
popularity, so the popular offers are heavily oversubscribed while unpopular ones keep free seats.
Capacities total about 60 % of the applications. Everything derives from `--seed`.

Only `allocate(...)` is timed: building the inputs is not. This is a benchmark, not a test: it
asserts nothing about time.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import itertools
import os
import platform
import pstats
import random
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

from services.allocation.domain import (
    Application,
    CampaignPolicy,
    Facts,
    Offer,
    PriorityCriterion,
    ReservedShare,
    allocate,
)

SECTION = "Allocation core"
PERFORMANCE_MD = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
TABLE_HEADER = ("| label | command | cores | load | Python | date | runs | best | median | best CPU | placed |",
                "|---|---|---|---|---|---|---|---|---|---|---|")
SECTION_INTRO = """\
`allocate(...)` alone (no reads or writes), on the random campaign built by
`bench/allocation_core.py` (see its docstring): priority_lottery with 3 criteria, a 20 % reserve,
about 2 % of applications in sibling groups, Zipf-like choice popularity. Target (issue 5): under
2 s for 100,000 applications with 3 ranked choices over 1,000 offers on the 2-core machine.
`best` and `median` are the runs' wall-clock times, `best CPU` the least CPU time a run took,
`load` the 1-minute load average when the runs started (the machine is shared: with a load above
its 2 cores, wall-clock times stretch). Rows are written by
`python -m bench.allocation_core … --write`; a row with the same label and command is replaced.
"""
ZIPF_EXPONENT = 1.0
SEATS_PER_APPLICATION = 0.6
GROUPED_SHARE = 0.02
MISTAKEN_CHOICE_RATE = 0.01  # a choice the child is not old enough or too old for


def campaign(applications: int, offers: int, choices: int, seed: int, sibling_placed: bool = False):
    """(policy, offers, applications, lottery seed): the same arguments always build the same campaign."""
    rng = random.Random(seed)
    criteria = [PriorityCriterion("disability_allowance"), PriorityCriterion("resident_of_offer_arrondissement"),
                PriorityCriterion("not_placed_previous_campaign")]
    if sibling_placed:
        criteria.append(PriorityCriterion("sibling_placed"))
    policy = CampaignPolicy(
        mode="priority_lottery", criteria=tuple(criteria), lottery_weight_per_unsuccessful_year=1,
        keep_siblings_together=True, max_choices=choices,
        reserved_shares=(ReservedShare(PriorityCriterion("quotient_tranche_at_most", 3), "1/5"),))

    mean_capacity = max(1, round(SEATS_PER_APPLICATION * applications / max(offers, 1)))
    the_offers = []
    for number in range(offers):
        min_age = rng.randint(3, 12)
        capacity = rng.randint(mean_capacity // 2, mean_capacity * 3 // 2)
        the_offers.append(Offer(
            offer_id=f"offer-{number:05d}", capacity=capacity, arrondissement=rng.randint(1, 20),
            min_age=min_age, max_age=min_age + rng.randint(2, 6),
            waitlist_limit=None if rng.random() < 0.5 else 2 * capacity))
    popularity = list(range(1, offers + 1))
    rng.shuffle(popularity)  # popularity rank of each offer, independent of its id and capacity
    weight = [1 / rank ** ZIPF_EXPONENT for rank in popularity]
    open_to = {}  # age → (offers open to it, cumulative weights)
    for age in range(3, 19):
        fitting = [(o, w) for o, w in zip(the_offers, weight) if o.min_age <= age <= o.max_age]
        open_to[age] = ([o.offer_id for o, _ in fitting], list(itertools.accumulate(w for _, w in fitting)))
    all_ids = [o.offer_id for o in the_offers]

    def ranked(age: int) -> tuple[str, ...]:
        ids, cumulative = open_to[age]
        wanted = min(choices, len(ids))
        picked: list[str] = []
        while len(picked) < wanted:
            offer_id = (rng.choice(all_ids) if rng.random() < MISTAKEN_CHOICE_RATE
                        else rng.choices(ids, cum_weights=cumulative)[0])
            if offer_id not in picked:
                picked.append(offer_id)
        return tuple(picked)

    def facts() -> Facts:
        return Facts(single_parent=rng.random() < 0.2,
                     quotient_tranche=None if rng.random() < 0.1 else rng.randint(1, 10),
                     disability_allowance=rng.random() < 0.02,
                     residence_arrondissement=None if rng.random() < 0.05 else rng.randint(1, 20),
                     unsuccessful_earlier_years=rng.choices((0, 1, 2), (70, 20, 10))[0],
                     not_placed_previous_campaign=rng.random() < 0.15)

    def application_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    the_applications = []
    arrivals = list(range(applications))
    rng.shuffle(arrivals)
    while len(the_applications) < applications:
        number = len(the_applications)
        family = f"family-{number}"
        if rng.random() < GROUPED_SHARE / 2.2:  # mean group size 2.2
            size = min(rng.choice((2, 2, 2, 2, 3)), applications - number)
            first_age = rng.randint(4, 14)
            shared_facts = facts()
            wish = ranked(first_age)
            for member in range(size):
                the_applications.append(Application(
                    application_id(), f"child-{number + member}", family,
                    max(3, first_age + rng.randint(-1, 2)) if member else first_age,
                    wish, shared_facts, arrivals[number + member], f"group-{number}"))
        else:
            age = rng.randint(4, 15)
            the_applications.append(Application(application_id(), f"child-{number}", family, age, ranked(age),
                                                facts(), arrivals[number]))
    return policy, the_offers, the_applications, rng.randbytes(32)


def timed(policy, offers, applications, seed, repeat: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds of each call, and how many children were placed. Each result is dropped
    before the next call, outside the timing: freeing it is the caller's business."""
    walls, cpus, placed = [], [], 0
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = allocate(policy, offers, applications, seed)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
        placed = result.statistics.allocated  # children placed: not every outcome rendered
        del result
    return walls, cpus, placed


def command_line(arguments: argparse.Namespace) -> str:
    parts = ["python -m bench.allocation_core", f"--applications {arguments.applications}",
             f"--offers {arguments.offers}", f"--choices {arguments.choices}", f"--seed {arguments.seed}"]
    if arguments.sibling_placed:
        parts.append("--sibling-placed")
    return " ".join(parts)


def table_row(arguments, walls: list[float], cpus: list[float], load: float, placed: int) -> str:
    return (f"| {arguments.label} | `{command_line(arguments)}` | {os.cpu_count()} | {load:.1f} | "
            f"{platform.python_version()} | {dt.date.today().isoformat()} | {len(walls)} | {min(walls):.2f} s | "
            f"{statistics.median(walls):.2f} s | {min(cpus):.2f} s | {placed:,} |")


def write_row(row: str, label: str, command: str, path: Path = PERFORMANCE_MD) -> None:
    """Put `row` in the "Allocation core" section's table, replacing the row with the same label and
    command; other sections, and any prose in this one, are kept as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    header = "\n".join(TABLE_HEADER)
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"## {SECTION}"), None)
    if start is None:
        lines += ["", f"## {SECTION}", "", *SECTION_INTRO.splitlines(), "", *header.splitlines(), row]
        path.write_text("\n".join(lines).strip("\n") + "\n", encoding="utf-8")
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = lines[start:end]
    table_at = next((i for i, line in enumerate(section) if line.startswith("| label | command |")), None)
    if table_at is None:
        while section and not section[-1].strip():
            section.pop()
        section += ["", *header.splitlines(), row, ""]
    else:
        rows_end = table_at + 2
        while rows_end < len(section) and section[rows_end].startswith("|"):
            rows_end += 1
        key = re.compile(rf"^\| {re.escape(label)} \| `{re.escape(command)}` \|")
        rows = [r for r in section[table_at + 2:rows_end] if not key.match(r)] + [row]
        section[table_at + 2:rows_end] = rows
    lines[start:end] = section
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.allocation_core", description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=1_000)
    parser.add_argument("--choices", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5, help="builds the campaign and its lottery seed")
    parser.add_argument("--sibling-placed", action="store_true",
                        help="add sibling_placed as a fourth criterion (two allocation passes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--label", default="current", help="the row's first column, e.g. before or after")
    parser.add_argument("--write", action="store_true", help=f"record the row in {PERFORMANCE_MD.name}")
    parser.add_argument("--profile", action="store_true", help="run once under cProfile and print the top calls")
    parser.add_argument("--digest", action="store_true",
                        help="run once, untimed, and print the SHA-256 of repr(result): every outcome, explanation, "
                             "cutoff, waitlist position and statistic (as test_results_pinned.py pins). A change "
                             "meant only to be faster must leave it as it was")
    arguments = parser.parse_args(argv)

    started = time.perf_counter()
    policy, offers, applications, seed = campaign(arguments.applications, arguments.offers, arguments.choices,
                                                  arguments.seed, arguments.sibling_placed)
    print(f"built {len(applications):,} applications over {len(offers):,} offers "
          f"({sum(o.capacity for o in offers):,} seats) in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if arguments.digest:
        result = allocate(policy, offers, applications, seed)
        print(f"{hashlib.sha256(repr(result).encode()).hexdigest()}  {command_line(arguments)}")
        return 0
    if arguments.profile:
        profiler = cProfile.Profile()
        profiler.runcall(allocate, policy, offers, applications, seed)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)
        return 0
    load = os.getloadavg()[0]  # other work on the machine slows the runs down: say how much there was
    walls, cpus, placed = timed(policy, offers, applications, seed, arguments.repeat)
    print("runs: " + ", ".join(f"{wall:.2f} s ({cpu:.2f} s CPU)" for wall, cpu in zip(walls, cpus)), file=sys.stderr)
    row = table_row(arguments, walls, cpus, load, placed)
    print("\n".join(TABLE_HEADER))
    print(row)
    if arguments.write:
        write_row(row, arguments.label, command_line(arguments))
        print(f"written to {PERFORMANCE_MD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
