"""The opening-minute crowd as data: parents, their children's ranked choices, and the stream of
submissions they send (pure functions, no I/O but writing the request file).

The mix (issue 4/7): every parent submits once; some retry with the same Idempotency-Key (a
timeout, a reload: the same body, a bit later), some double-click (a second submission with a
new key, right after the first). Each parent is one family account with one child, so every
first submission is a distinct application and, on a lottery campaign, a distinct 202.
"""
from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from shared.domain.ages import fits_age_range

FIRST, RETRY, DOUBLE_CLICK = "first", "retry", "double-click"
# A retry comes back after the first answer (0.2–2 s later at ~1,000 requests/s); a double click
# lands while the first is still on its way.
RETRY_GAP = (200, 2000)
DOUBLE_CLICK_GAP = (1, 3)


@dataclass(frozen=True)
class OfferAges:
    offer_id: str
    min_age: int
    max_age: int


@dataclass(frozen=True)
class Parent:
    account: str
    child_id: uuid.UUID
    birth_date: date
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Attempt:
    parent: int  # index into the parents
    key: str  # Idempotency-Key
    kind: str  # FIRST, RETRY or DOUBLE_CLICK


def account_name(index: int) -> str:
    return f"bench-family-{index:06d}"


def birth_date_for_age(age: int, reference_date: date, rng: random.Random) -> date:
    """A birth date at which the child is `age` (completed years) on the reference date."""
    day = min(reference_date.day, 28) if (reference_date.month, reference_date.day) == (2, 29) else reference_date.day
    oldest = reference_date.replace(year=reference_date.year - age - 1, day=day) + timedelta(days=1)
    return oldest + timedelta(days=rng.randrange(365))


def make_parents(count: int, offers: Sequence[OfferAges], reference_date: date, max_choices: int,
                 rng: random.Random) -> list[Parent]:
    """One child per family, of an age some offer takes, ranking up to `max_choices` offers that fit."""
    ages = sorted({age for offer in offers for age in range(offer.min_age, offer.max_age + 1)})
    if not ages:
        raise ValueError("no offer to apply to")
    parents = []
    for index in range(count):
        born = birth_date_for_age(rng.choice(ages), reference_date, rng)
        fitting = [o.offer_id for o in offers if fits_age_range(born, reference_date, o.min_age, o.max_age)]
        ranked = rng.sample(fitting, k=rng.randint(1, min(max_choices, len(fitting))))
        parents.append(Parent(account_name(index), uuid.UUID(int=rng.getrandbits(128), version=4), born,
                              tuple(ranked)))
    return parents


def plan_attempts(parents: int, rng: random.Random, retry_share: float = 0.10,
                  double_click_share: float = 0.05) -> list[Attempt]:
    """Every parent's first submission in a random arrival order, plus retries and double clicks
    placed shortly after the submission they repeat."""
    arrival = list(range(parents))
    rng.shuffle(arrival)
    placed: list[tuple[float, Attempt]] = []
    for position, parent in enumerate(arrival):
        key = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        placed.append((position, Attempt(parent, key, FIRST)))
        if rng.random() < retry_share:
            placed.append((position + rng.randint(*RETRY_GAP) + 0.5, Attempt(parent, key, RETRY)))
        if rng.random() < double_click_share:
            new_key = uuid.UUID(int=rng.getrandbits(128), version=4).hex
            placed.append((position + rng.randint(*DOUBLE_CLICK_GAP) + 0.25, Attempt(parent, new_key, DOUBLE_CLICK)))
    placed.sort(key=lambda pair: pair[0])
    return [attempt for _, attempt in placed]


def rekey(attempts: Sequence[Attempt], salt: str) -> list[Attempt]:
    """The same crowd in the same order with other Idempotency-Keys (a retry keeps its first's key):
    each gunicorn configuration replays the plan against a new campaign, and a key already used
    with another body would be refused (422)."""
    return [replace(attempt, key=uuid.uuid5(uuid.NAMESPACE_OID, f"{salt}/{attempt.key}").hex) for attempt in attempts]


def mix(attempts: Iterable[Attempt]) -> Counter:
    return Counter(attempt.kind for attempt in attempts)


def submission_body(campaign_id: str, parent: Parent, offer_ids: Mapping[str, str] | None = None) -> str:
    """The JSON a parent's browser sends; a retry sends these very bytes (the key's fingerprint).
    `offer_ids` maps the parent's choices to a campaign's offers (each bench campaign is a new copy)."""
    choices = [offer_ids[choice] if offer_ids else choice for choice in parent.choices]
    return json.dumps({"campaign_id": str(campaign_id), "child_id": str(parent.child_id), "choices": choices,
                       "sworn_statement": True}, separators=(",", ":"))


def request_lines(attempts: Sequence[Attempt], parents: Sequence[Parent], tokens: Sequence[str], campaign_id: str,
                  offer_ids: Mapping[str, str] | None = None) -> list[str]:
    """One line per request for bench/lua/submit.lua: token, Idempotency-Key, body, tab-separated."""
    bodies: dict[int, str] = {}
    lines = []
    for attempt in attempts:
        body = bodies.get(attempt.parent)
        if body is None:
            body = bodies[attempt.parent] = submission_body(campaign_id, parents[attempt.parent], offer_ids)
        lines.append(f"{tokens[attempt.parent]}\t{attempt.key}\t{body}")
    return lines


def parse_request_line(line: str) -> tuple[str, str, dict]:
    token, key, body = line.rstrip("\n").split("\t")
    return token, key, json.loads(body)


def write_request_file(path: Path, lines: Sequence[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path
