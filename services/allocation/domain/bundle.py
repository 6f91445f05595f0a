"""Draw bundles: what the city publishes so that anyone can recompute a campaign's allocation.

A bundle is JSON: the policy, the offers, the applications, the seed's commitment and the revealed
seed, and every application's published result.

guichet-draw/3 (`sealed_draw`) publishes no raw fact of anyone: each application is a pseudonymous
line (an HMAC of its id under the campaign's lines key, which is never published), with what the
allocation reads of it and nothing more: its choices, its eligibility at each offer it chose (or
why not), the fact-only criteria it meets, the offers in whose arrondissement it lives when the
policy reads that, its tickets; and a salted commitment to its facts, whose salt only its family
and auditors get. Anyone recomputes every result from this file (the verifier rebuilds, for each
line, the simplest facts that give exactly what is published); a family checks its own line with
`check_line`; an auditor given every salt checks that the facts gave what is published. The lottery
numbers hash the lines, with a key mixing the seed and the Merkle root of every line
(`lottery.draw_key`).

guichet-draw/1 and /2 bundles (real application ids, the facts the policy reads) still verify.
Child, family and sibling-group ids are always aliases that only preserve which lines share them.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from services.allocation.domain.allocate import allocate
from services.allocation.domain.deferred_acceptance import CURRENT_RULE
from services.allocation.domain.eligibility import ineligibility
from services.allocation.domain.explain import decided
from services.allocation.domain.lottery import (
    applications_root,
    commitment,
    draw_key,
    format_number,
    line_of,
    lines_of,
    salt_of,
    salts_of,
    sealed_commitment,
    secret_parts,
    tickets,
)
from services.allocation.domain.model import (
    VALIDATED_FACTS,
    Application,
    CampaignPolicy,
    Facts,
    Offer,
    PriorityCriterion,
    ReservedShare,
)
from services.allocation.domain.priorities import FACT_READ_BY, facts_read, meets, uses_sibling_placed
from services.allocation.domain.result import AllocationResult, Decided, ReasonCode, TieBreak
from services.allocation.domain.validated import as_counted
from shared.domain.policy import CriterionName

# The format names the allocation rule the results were computed with (see deferred_acceptance.py):
# guichet-draw/1 bundles were drawn under rule 1, and are still recomputed with it; /3 is rule 2 with
# pseudonymous lines, no raw facts and the lottery key mixed with the root of every line.
BUNDLE_FORMAT = "guichet-draw/3"
RULE_OF_FORMAT = {"guichet-draw/1": 1, "guichet-draw/2": 2, "guichet-draw/3": 2}
SEALED_FORMATS = frozenset({"guichet-draw/3"})


def draw_bundle(policy: CampaignPolicy, offers: Iterable[Offer], applications: Iterable[Application],
                result: AllocationResult, seed: bytes | None, *, rule: int = CURRENT_RULE) -> dict[str, Any]:
    """A guichet-draw/1 or /2 bundle (real ids, raw facts the policy reads): what draws published
    before /3, kept to re-publish them. `rule`: the one `result` was computed with."""
    applications = sorted(applications, key=lambda a: a.application_id)
    return {
        "format": "guichet-draw/1" if rule == 1 else "guichet-draw/2",
        "policy": _policy_record(policy),
        "offers": [_offer_record(offer) for offer in sorted(offers, key=lambda o: o.offer_id)],
        "applications": _application_records(policy, applications),
        "seed_commitment": None if seed is None else commitment(seed),
        "seed": None if seed is None else seed.hex(),
        "results": result_records(result),
    }


@dataclass(frozen=True)
class SealedDraw:
    result: AllocationResult  # by real application id
    bundle: dict[str, Any]  # the public guichet-draw/3 bundle
    lines: Mapping[str, str]  # application id → its line in the bundle


def sealed_draw(policy: CampaignPolicy, offers: Iterable[Offer], applications: Iterable[Application],
                secret: bytes | None) -> SealedDraw:
    """Draw a campaign and make its guichet-draw/3 bundle. `secret`: the campaign's lottery secret
    (`lottery.generate_secret`, or an old 32-byte seed); None only for a first-come campaign."""
    offers, applications = list(offers), list(applications)
    if secret is None:
        if policy.draws_lots:
            raise ValueError(f"a {policy.mode} campaign needs its lottery secret")
        seed, lines_key, lines_digest = None, secrets.token_bytes(32), None  # no lottery: nothing to steer
    else:
        seed, lines_key, lines_digest = secret_parts(secret)
    ids = [application.application_id for application in applications]
    lines = dict(zip(ids, lines_of(lines_key, ids)))
    root = applications_root(lines.values())
    key = None if seed is None or not policy.draws_lots else draw_key(seed, root)
    drawn = allocate(policy, offers, [_renamed(a, application_id=lines[a.application_id]) for a in applications], key)
    offers_by_id = {offer.offer_id: offer for offer in offers}
    line_records = _SealedLines(policy, offers_by_id, _group_choices(policy, applications))
    by_line = sorted(applications, key=lambda a: lines[a.application_id])
    salts = salts_of(lines_key, [application.application_id for application in by_line])
    records = [line_records.record(application, lines[application.application_id], salt)
               for application, salt in zip(by_line, salts)]
    bundle = {
        "format": BUNDLE_FORMAT,
        "policy": _policy_record(policy),
        "offers": [_offer_record(offer) for offer in sorted(offers, key=lambda o: o.offer_id)],
        "applications": records,
        "applications_root": root,
        "lines_key_digest": lines_digest,
        "seed_commitment": None if seed is None else sealed_commitment(seed, lines_digest),
        "seed": None if seed is None else seed.hex(),
        "results": result_records(drawn),
    }
    # Told with the real ids (the applications' and their sibling groups'), in the order given.
    return SealedDraw(AllocationResult(drawn.outcomes.renamed(lines), drawn.statistics), bundle, lines)


def _renamed(instance: Any, **changes: Any) -> Any:
    """dataclasses.replace without running __init__ and __post_init__ again: `instance` passed them when it was
    made and only its id changes here (to its line), for 100,000 applications in a large draw, where replace's
    checks took a tenth of the bundle's time. The copy is equal to replace's."""
    made = object.__new__(type(instance))
    made.__dict__.update(instance.__dict__)
    made.__dict__.update(changes)
    return made


# Every fact but `validated`, in the class's order. Read field by field rather than by dataclasses.asdict, which
# deep-copies each value: a third of a 100,000-application bundle's time, for the same document.
_PLAIN_FACTS = tuple(field.name for field in fields(Facts) if field.name != "validated")


def facts_document(application: Application) -> dict[str, Any]:
    """What an application's facts commitment binds: its age at the reference date and every fact; which
    facts an agent validated only when some were (so that lines committed before issue 16 still match)."""
    facts = application.facts
    document = {"age_at_reference_date": application.age_at_reference_date}
    for name in _PLAIN_FACTS:
        document[name] = getattr(facts, name)
    if facts.validated:
        document["validated"] = sorted(facts.validated)
    return document


# json.dumps with options builds an encoder per call; one encoder serves every line of a draw.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def facts_commitment(salt: bytes, document: Mapping[str, Any]) -> str:
    """SHA-256(salt ‖ the facts document as canonical JSON: sorted keys, no spaces, UTF-8)."""
    canonical = _CANONICAL_JSON.encode(dict(document))
    return hashlib.sha256(salt + canonical.encode()).hexdigest()


class _CanonicalFacts:
    """`facts_commitment(salt, facts_document(application))` for a draw's lines, each distinct facts document
    encoded once: applications read from storage share their `Facts` (store.application_rows.ApplicationReader)
    and a few birth years, so 100,000 lines have a few thousand documents. Keyed by the `Facts` object itself
    (kept alive here, so its id is not reused) and the age: the same object gives the same document."""

    def __init__(self):
        self._known: dict[tuple[int, int], tuple[Facts, bytes]] = {}

    def commitment(self, salt: bytes, application: Application) -> str:
        key = (id(application.facts), application.age_at_reference_date)
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = (application.facts,
                                        _CANONICAL_JSON.encode(facts_document(application)).encode())
        return hashlib.sha256(salt + known[1]).hexdigest()


def line_record(application: Application, secret: bytes) -> dict[str, Any]:
    """An application's own line, for its family and auditors: the line, the salt and the facts
    document the published commitment binds."""
    _, lines_key, _ = secret_parts(secret)
    return {"line": line_of(lines_key, application.application_id),
            "salt": salt_of(lines_key, application.application_id).hex(),
            "facts": facts_document(application)}


def check_line(bundle: Mapping[str, Any], line: str, salt: bytes, facts: Mapping[str, Any]) -> list[str]:
    """What is wrong with one published line, given its salt and the facts claimed for it: the
    commitment must bind these facts, and these facts must give what the line publishes."""
    if bundle.get("format") not in SEALED_FORMATS:
        raise ValueError("only a guichet-draw/3 bundle has salted lines")
    record = next((r for r in bundle["applications"] if r["line"] == line), None)
    if record is None:
        return [f"{line}: no such line in the bundle"]
    problems = []
    if not hmac.compare_digest(facts_commitment(salt, facts), record["facts_commitment"]):
        problems.append(f"{line}: the facts given do not match the published facts commitment")
    policy = _policy_from(bundle["policy"])
    offers = {record["offer_id"]: _offer_from(record) for record in bundle["offers"]}
    document = dict(facts)
    application = Application(application_id=line, child_id=record["child"], family_account="",
                              age_at_reference_date=document.pop("age_at_reference_date"),
                              choices=tuple(record["choices"]), facts=Facts(**document), arrival_position=0)
    group = record.get("sibling_group")
    group_choices = {offer_id for other in bundle["applications"] if group is not None
                     and other.get("sibling_group") == group for offer_id in other["choices"]}
    expected = _assessment(policy, offers, application, group_choices)
    problems += [f"{line}: {field} published {record.get(field)!r}, these facts give {value!r}"
                 for field, value in expected.items() if record.get(field) != value]
    return problems


def verify_draw(bundle: Mapping[str, Any], seed: bytes | None = None, *,
                published_commitment: str | None = None) -> list[str]:
    """The differences between the bundle and a fresh recomputation; none means verified.

    `seed` replaces the bundle's revealed seed, for instance to check one published elsewhere.
    `published_commitment`: the commitment published at the opening, taken from outside the bundle
    (the campaign's draw page, the lottery.seed_committed event); a bundle redrawn with another seed
    and its own new commitment fails against it. Raises ValueError when the bundle cannot be read.
    """
    rule = RULE_OF_FORMAT.get(bundle.get("format"))
    if rule is None:
        raise ValueError(f"not a draw bundle of a known format ({', '.join(RULE_OF_FORMAT)})")
    sealed = bundle["format"] in SEALED_FORMATS
    policy = _policy_from(bundle["policy"])
    if seed is None and bundle.get("seed"):
        seed = bytes.fromhex(bundle["seed"])
    problems = []
    if policy.draws_lots:
        if seed is None:
            raise ValueError("the bundle reveals no seed: give it")
        expected = sealed_commitment(seed, bundle.get("lines_key_digest")) if sealed else commitment(seed)
        if not hmac.compare_digest(expected, (bundle["seed_commitment"] or "").strip().lower()):
            problems.append(f"the seed {seed.hex()} does not match the bundle's commitment {bundle['seed_commitment']}")
        if published_commitment is not None and not hmac.compare_digest(
                expected, published_commitment.strip().lower()):
            problems.append(f"the seed {seed.hex()} does not match the commitment published at the opening "
                            f"{published_commitment}: this is not the draw that was committed to")
    offers = [_offer_from(record) for record in bundle["offers"]]
    if sealed:
        offers_by_id = {offer.offer_id: offer for offer in offers}
        applications = [_surrogate(policy, offers_by_id, record) for record in bundle["applications"]]
        root = applications_root(a.application_id for a in applications)
        if root != bundle["applications_root"]:
            problems.append(f"the applications' root is {root}, not the published {bundle['applications_root']}")
        key = draw_key(seed, root) if policy.draws_lots else None
    else:
        applications = [_application_from(record) for record in bundle["applications"]]
        key = seed if policy.draws_lots else None
    recomputed = result_records(allocate(policy, offers, applications, key, rule=rule))
    return problems + _differences(bundle["results"], recomputed)
def result_records(result: AllocationResult) -> dict[str, dict[str, Any]]:
    return {facts.application_id: _outcome_record(facts)
            for facts in sorted(decided(result.outcomes), key=attrgetter("application_id"))}


def _outcome_record(facts: Decided) -> dict[str, Any]:
    record = {
        "status": str(facts.status),
        "offer_id": facts.offer_id,
        "waitlist": [{"offer_id": offer_id, "position": position} for offer_id, position in facts.waitlist],
        # fact_not_validated is the family's to read, not the public's: it would tell what the family declared.
        "reasons": [{"code": str(reason.code), "offer_id": reason.offer_id} for reason in facts.reasons
                    if reason.code != ReasonCode.FACT_NOT_VALIDATED],
    }
    if facts.tie_break_kind == TieBreak.LOTTERY:
        record["lottery_number"] = None if facts.tie_break is None else format_number(facts.tie_break)
    else:
        record["arrival_rank"] = facts.tie_break
    return record


def _differences(published: Mapping[str, Any], recomputed: Mapping[str, Any]) -> list[str]:
    problems = []
    for application_id in sorted(set(published) | set(recomputed)):
        if application_id not in recomputed:
            problems.append(f"{application_id}: published but not among the applications")
        elif application_id not in published:
            problems.append(f"{application_id}: no published result")
        else:
            mine, theirs = recomputed[application_id], published[application_id]
            problems += [f"{application_id}: {field} published {theirs.get(field)!r}, recomputed {mine.get(field)!r}"
                         for field in sorted(set(mine) | set(theirs)) if mine.get(field) != theirs.get(field)]
    return problems


def _criterion_record(criterion: PriorityCriterion) -> dict[str, Any]:
    return {"name": str(criterion.name), "max_tranche": criterion.max_tranche}


def _criterion_from(record: Mapping[str, Any]) -> PriorityCriterion:
    return PriorityCriterion(record["name"], record.get("max_tranche"))


def _policy_record(policy: CampaignPolicy) -> dict[str, Any]:
    required = policy.residence_required_arrondissements
    record = {
        "mode": str(policy.mode),
        "criteria": [_criterion_record(criterion) for criterion in policy.criteria],
        "lottery_weight_per_unsuccessful_year": policy.lottery_weight_per_unsuccessful_year,
        "keep_siblings_together": policy.keep_siblings_together,
        "reserved_shares": [{"criterion": _criterion_record(reserve.criterion), "share": str(reserve.share)}
                            for reserve in policy.reserved_shares],
        "max_choices": policy.max_choices,
        "residence_required_arrondissements": None if required is None else sorted(required),
    }
    if policy.requires_validated_facts:  # said only when on: bundles published before it stay as they were
        record["requires_validated_facts"] = True
    return record


def _policy_from(record: Mapping[str, Any]) -> CampaignPolicy:
    return CampaignPolicy(
        mode=record["mode"],
        criteria=tuple(_criterion_from(criterion) for criterion in record["criteria"]),
        lottery_weight_per_unsuccessful_year=record["lottery_weight_per_unsuccessful_year"],
        keep_siblings_together=record["keep_siblings_together"],
        reserved_shares=tuple(ReservedShare(_criterion_from(reserve["criterion"]), reserve["share"])
                              for reserve in record["reserved_shares"]),
        max_choices=record["max_choices"],
        residence_required_arrondissements=record["residence_required_arrondissements"],
        requires_validated_facts=record.get("requires_validated_facts", False),
    )


def _offer_record(offer: Offer) -> dict[str, Any]:
    return {"offer_id": offer.offer_id, "capacity": offer.capacity, "arrondissement": offer.arrondissement,
            "min_age": offer.min_age, "max_age": offer.max_age, "waitlist_limit": offer.waitlist_limit}


def _offer_from(record: Mapping[str, Any]) -> Offer:
    return Offer(**record)


def _application_records(policy: CampaignPolicy, applications: list[Application]) -> list[dict[str, Any]]:
    children, families, groups = _Aliases("child"), _Aliases("family"), _Aliases("group")
    published_facts = sorted(facts_read(policy))
    records = []
    for application in applications:
        record = {
            "application_id": application.application_id,
            "child": children.of(application.child_id),
            "age_at_reference_date": application.age_at_reference_date,
            "choices": list(application.choices),
            "arrival_sequence": application.arrival_position,  # its name in the published format
            "facts": {name: getattr(application.facts, name) for name in published_facts},
        }
        if uses_sibling_placed(policy):
            record["family"] = families.of(application.family_account)
        if policy.keep_siblings_together and application.sibling_group_id is not None:
            record["sibling_group"] = groups.of(application.sibling_group_id)
        records.append(record)
    return records


def _application_from(record: Mapping[str, Any]) -> Application:
    return Application(
        application_id=record["application_id"],
        child_id=record["child"],
        family_account=record.get("family", record["child"]),  # only sibling_placed reads families
        age_at_reference_date=record["age_at_reference_date"],
        choices=tuple(record["choices"]),
        facts=Facts(**record["facts"]),
        arrival_position=record["arrival_sequence"],
        sibling_group_id=record.get("sibling_group"),
    )


_FACT_ONLY = frozenset(name for name, fact in FACT_READ_BY.items()
                       if fact is not None and name != CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT)


def _reads_residence(policy: CampaignPolicy) -> bool:
    return any(c.name == CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT for c in policy.criteria_in_use)


def _assessment(policy: CampaignPolicy, offers: Mapping[str, Offer], application: Application,
                group_choices: Iterable[str] = (), criteria: _FactOnlyCriteria | None = None) -> dict[str, Any]:
    """What a guichet-draw/3 line publishes of an application: what the allocation reads, no fact.
    `group_choices`: the offers its sibling group's members chose (a group is placed at the first
    member's choices, where every member's eligibility counts). `criteria`: one for all of a draw's lines."""
    given, application = application, as_counted(policy, application)  # what the allocation counted of its facts
    chosen = [offer_id for offer_id in dict.fromkeys((*application.choices, *sorted(group_choices)))
              if offer_id in offers]
    assessed: dict[str, Any] = {
        "eligibility": {offer_id: _code(ineligibility(application, offers[offer_id], policy)) for offer_id in chosen},
        "criteria_met": (criteria or _FactOnlyCriteria(policy)).met(given, application),
    }
    if _reads_residence(policy):
        home = application.facts.residence_arrondissement
        assessed["resident_at"] = [offer_id for offer_id in chosen if offers[offer_id].arrondissement == home]
    if policy.draws_lots and policy.lottery_weight_per_unsuccessful_year:
        assessed["tickets"] = tickets(policy, application)
    return assessed


class _FactOnlyCriteria:
    """The labels of the fact-only criteria an application meets as counted, in the policy's order. They read
    its facts alone (as the policy counts them), so each distinct `Facts` given is assessed once: applications
    read from storage share them (store.application_rows.ApplicationReader). Keyed by the `Facts` object given,
    kept alive here so that its id is not reused."""

    def __init__(self, policy: CampaignPolicy):
        self._criteria = [criterion for criterion in policy.criteria_in_use if criterion.name in _FACT_ONLY]
        self._known: dict[int, tuple[Facts, list[str]]] = {}

    def met(self, given: Application, counted: Application | None, policy: CampaignPolicy | None = None
            ) -> list[str]:
        """`counted`: `given` as the policy counts it (validated.as_counted), or None to count it with `policy`
        only when its facts were not met before."""
        known = self._known.get(id(given.facts))
        if known is None:
            counted = counted or as_counted(policy, given)
            known = self._known[id(given.facts)] = (given.facts, [
                criterion.label for criterion in self._criteria if meets(criterion, counted, None, frozenset())])
        return list(known[1])


def _code(reason: ReasonCode | None) -> str | None:
    return None if reason is None else str(reason)


def _group_choices(policy: CampaignPolicy, applications: Iterable[Application]) -> dict[str, set[str]]:
    """Sibling group → the offers its members chose (only when the policy keeps siblings together)."""
    chosen: dict[str, set[str]] = {}
    if policy.keep_siblings_together:
        for application in applications:
            if application.sibling_group_id is not None:
                chosen.setdefault(application.sibling_group_id, set()).update(application.choices)
    return chosen


class _SealedLines:
    """A draw's guichet-draw/3 lines: each application's record, as `_assessment` tells what it publishes
    (the fields in the same order, so the bundle's bytes are the same), made for 100,000 lines with what
    depends on the policy and the offers read once, and what depends on the facts alone made once per
    distinct `Facts` (`_FactOnlyCriteria`, `_CanonicalFacts`).

    Eligibility and residence are read from the facts given, not as counted: counting a policy's validated
    facts (`as_counted`) only drops a declared-only tranche, single parent or allowance, which neither reads."""

    def __init__(self, policy: CampaignPolicy, offers: Mapping[str, Offer], group_choices: Mapping[str, set[str]]):
        self.policy, self.offers, self.group_choices = policy, offers, group_choices
        self.bounds = {offer_id: (offer.min_age, offer.max_age, offer.arrondissement)
                       for offer_id, offer in offers.items()}
        self.required = policy.residence_required_arrondissements
        self.reads_residence = _reads_residence(policy)
        self.weight = policy.lottery_weight_per_unsuccessful_year if policy.draws_lots else 0
        self.with_family = uses_sibling_placed(policy)
        self.with_group = policy.keep_siblings_together
        self.children, self.families, self.groups = _Aliases("child"), _Aliases("family"), _Aliases("group")
        self.canonical, self.criteria = _CanonicalFacts(), _FactOnlyCriteria(policy)
        self.too_young, self.too_old = _code(ReasonCode.TOO_YOUNG), _code(ReasonCode.TOO_OLD)
        self.not_resident = _code(ReasonCode.RESIDENCE_NOT_ACCEPTED)

    def record(self, application: Application, line: str, salt: bytes) -> dict[str, Any]:
        group_id = application.sibling_group_id
        listed = application.choices
        if group_id is not None and group_id in self.group_choices:
            listed = (*listed, *sorted(self.group_choices[group_id]))
        bounds = self.bounds
        chosen = [offer_id for offer_id in dict.fromkeys(listed) if offer_id in bounds]
        age, home = application.age_at_reference_date, application.facts.residence_arrondissement
        accepted = self.required is None or home in self.required
        eligibility = {}
        for offer_id in chosen:
            youngest, oldest, _ = bounds[offer_id]
            eligibility[offer_id] = self.too_young if age < youngest else self.too_old if age > oldest \
                else None if accepted else self.not_resident
        record = {"line": line, "child": self.children.of(application.child_id), "choices": list(application.choices),
                  "arrival_sequence": application.arrival_position, "eligibility": eligibility,
                  "criteria_met": self.criteria.met(application, None, self.policy)}
        if self.reads_residence:
            record["resident_at"] = [offer_id for offer_id in chosen if bounds[offer_id][2] == home]
        if self.weight:
            record["tickets"] = 1 + self.weight * application.facts.unsuccessful_earlier_years
        record["facts_commitment"] = self.canonical.commitment(salt, application)
        if self.with_family:
            record["family"] = self.families.of(application.family_account)
        if self.with_group and group_id is not None:
            record["sibling_group"] = self.groups.of(group_id)
        return record


def _surrogate(policy: CampaignPolicy, offers: Mapping[str, Offer], record: Mapping[str, Any]) -> Application:
    """The simplest application that gives exactly what the line publishes: the youngest age with the
    same eligibility at each offer chosen, the lowest tranche meeting the same thresholds, a home in
    the same offers' arrondissements (or accepted, or not, as published), the same tickets."""
    eligibility: Mapping[str, str | None] = record["eligibility"]
    age = 0
    for offer_id, code in eligibility.items():
        offer = offers[offer_id]
        if code == ReasonCode.TOO_OLD:
            age = max(age, offer.max_age + 1)
        elif code != ReasonCode.TOO_YOUNG:
            age = max(age, offer.min_age)
    met = set(record["criteria_met"])
    in_use = policy.criteria_in_use
    thresholds = [c.max_tranche for c in in_use if c.name == CriterionName.QUOTIENT_TRANCHE_AT_MOST and c.label in met]
    required = policy.residence_required_arrondissements
    resident_at = record.get("resident_at") or []
    if resident_at:
        home = offers[resident_at[0]].arrondissement
    elif required is not None and any(code is None for code in eligibility.values()):
        avoid = {offers[offer_id].arrondissement for offer_id in eligibility} if _reads_residence(policy) else set()
        home = min(set(required) - avoid)
    else:
        home = None
    weight = policy.lottery_weight_per_unsuccessful_year if policy.draws_lots else 0
    facts = Facts(
        single_parent="single_parent" in met,
        quotient_tranche=min(thresholds) if thresholds else None,
        disability_allowance="disability_allowance" in met,
        residence_arrondissement=home,
        unsuccessful_earlier_years=(record.get("tickets", 1) - 1) // weight if weight else 0,
        not_placed_previous_campaign="not_placed_previous_campaign" in met,
        validated=frozenset(VALIDATED_FACTS))  # the published criteria are what counted
    return Application(
        application_id=record["line"],
        child_id=record["child"],
        family_account=record.get("family", record["child"]),
        age_at_reference_date=age,
        choices=tuple(record["choices"]),
        facts=facts,
        arrival_position=record["arrival_sequence"],
        sibling_group_id=record.get("sibling_group"),
    )


class _Aliases:
    """child-1, child-2, …: in order of first appearance, so the same inputs give the same aliases."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.given: dict[str, str] = {}

    def of(self, real_id: str) -> str:
        alias = self.given.get(real_id)
        if alias is None:
            alias = self.given[real_id] = f"{self.prefix}-{len(self.given) + 1}"
        return alias
