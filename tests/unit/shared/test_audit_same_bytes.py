"""The audit chain is evidence: an entry prepared by today's shared/audit.py must be the entry the code before
issue 19's single walk wrote (its changes, its canonical text, its hash), and entries of either verify with the
other. The code before is kept here, and only here, as the oracle."""
import dataclasses
import decimal
import enum
import hashlib
import json
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.audit import (
    GENESIS_HASH,
    Actor,
    AuditEntry,
    ChainHead,
    canonical_json,
    changed_fields,
    json_safe,
    next_entry,
    verify_chain,
)

# --- the oracle: changed_fields and next_entry as they were at 4b89b24 (json_safe itself is unchanged) -------


def old_canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def old_flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and (value or not prefix):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(old_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: value}


def old_changed_fields(before, after):
    flat_before = old_flatten(json_safe(before or {}))
    flat_after = old_flatten(json_safe(after or {}))
    return {name: {"before": flat_before.get(name), "after": flat_after.get(name)}
            for name in sorted(flat_before.keys() | flat_after.keys())
            if flat_before.get(name) != flat_after.get(name)}


def old_next_entry(previous, *, chain, actor, action, target_type, target_id, changes, occurred_at):
    head = previous or ChainHead(0, GENESIS_HASH)
    entry = AuditEntry(chain=chain, seq=head.seq + 1, occurred_at=occurred_at.astimezone(timezone.utc),
                       actor_subject=actor.subject, actor_role=actor.role, on_behalf_of=actor.on_behalf_of,
                       action=action, target_type=target_type, target_id=str(target_id),
                       changes=json_safe(changes), request_id=actor.request_id, previous_hash=head.hash)
    content = {**entry.content(), "changes": entry.changes}
    text = f"{head.hash}\n{old_canonical_json(content)}"
    return dataclasses.replace(entry, hash=hashlib.sha256(text.encode()).hexdigest())


# --- varied values -----------------------------------------------------------------------------------------

class Tranche(enum.IntEnum):
    FOURTH = 4


class Status(enum.StrEnum):
    RECEIVED = "received"


class Shape(enum.Enum):
    NESTED = {"inner": 1, "deeper": {"x": 2.0}}
    EMPTY = ()


@dataclasses.dataclass
class Offer:
    id: uuid.UUID
    capacity: int
    opens: date
    ratio: float = 0.5
    tags: frozenset = frozenset({"b", "a"})


SOME_ID = uuid.UUID("6f1c1a3e-1111-4111-8111-111111111111")
PARIS = timezone(timedelta(hours=1))

EXAMPLES = [
    (None, None),
    (None, {}),
    ({}, {"title": "A"}),
    ({"title": "A", "n": 1, "on": True, "gone": None}, {"title": "B", "n": 1.0, "on": False, "x": 2.5}),
    ({"policy": {"mode": "lottery", "weight": 1}}, {"policy": {"mode": "lottery", "weight": 2.0}}),
    ({"offers": {"o1": {"capacity": 24}}}, {"offers": {"o1": {"capacity": 12}, "o2": {}}}),
    ({"empty": {}}, {"empty": {"now": "full"}}),
    ({"a.b": 1, "a": {"b": 2}}, {"a": {"b": 3}, "a.b": 4}),  # dotted names colliding with nested ones
    ({1: {"x": 1}, "1": {"y": 2}}, {"1": "scalar", 1: {"z": 3}}),  # keys whose texts collide
    ({SOME_ID: [Tranche.FOURTH, Status.RECEIVED, SOME_ID, (True, None)]}, {str(SOME_ID): ["x"]}),
    ({"ordered": OrderedDict(b=1.0, a={"c": 2})}, {"ordered": OrderedDict(a={"c": 3})}),
    ({"shape": Shape.NESTED, "none": Shape.EMPTY, "tranche": Tranche.FOURTH, "status": Status.RECEIVED},
     {"shape": {"inner": 2}, "none": [], "tranche": 4, "status": "received"}),
    ({"offer": Offer(SOME_ID, 24, date(2026, 3, 2))},
     {"offer": Offer(SOME_ID, 12, date(2026, 3, 3), 1.0, frozenset({"c"}))}),
    ({"at": datetime(2026, 1, 1, 10, tzinfo=PARIS), "d": date(2026, 1, 1), "t": time(9, 30),
      "span": timedelta(hours=1), "price": decimal.Decimal("1.50"), "ids": {SOME_ID}, "gen": range(3)},
     {"at": datetime(2026, 1, 1, 9, tzinfo=UTC), "d": "2026-01-01", "t": time(9, 31),
      "span": timedelta(seconds=1.5), "price": decimal.Decimal("1.5"), "ids": set(), "gen": (0, 1, 2)}),
    ({"accent": "é\u2028\x00\"\\"}, {"accent": "è", "emoji": "🎈"}),
    (OrderedDict(top=1), {"top": 2}),
]

leaves = (st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=6)
          | st.floats(allow_nan=False, allow_infinity=False) | st.uuids() | st.dates()
          | st.datetimes(timezones=st.just(UTC)) | st.sampled_from([Tranche.FOURTH, Status.RECEIVED, Shape.NESTED]))
keys = st.text(max_size=4) | st.integers(0, 3) | st.sampled_from(["a", "a.b", "1", "b"])
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=12)
objects = st.dictionaries(keys, values, max_size=5)


def assert_same_entries(before, after, *, reason=None, previous=None, occurred_at=datetime(2026, 2, 1, 8, tzinfo=PARIS)):
    """One entry prepared both ways, with an agent's reason set afterwards as the registrations service does."""
    new_changes, old_changes = changed_fields(before, after), old_changed_fields(before, after)
    if reason is not None:
        new_changes["reason"] = {"before": None, "after": reason}
        old_changes["reason"] = {"before": None, "after": reason}
    actor = Actor("agent-1", "agent", on_behalf_of="family-9", request_id="req-1")
    arguments = dict(chain="family:family-9", actor=actor, action="application.submit", target_type="application",
                     target_id=SOME_ID, occurred_at=occurred_at)
    new = next_entry(previous, changes=new_changes, **arguments)
    old = old_next_entry(previous, changes=old_changes, **arguments)
    assert new == old
    assert canonical_json(new.changes) == old_canonical_json(old.changes)
    assert new.hash == old.hash == new.computed_hash() == old.computed_hash()
    return new


def test_the_examples_give_the_entries_the_old_code_gave():
    head = None
    for before, after in EXAMPLES:
        entry = assert_same_entries(before, after, previous=head)
        head = ChainHead(entry.seq, entry.hash)
    assert head.seq == len(EXAMPLES)


def test_a_value_set_after_changed_fields_is_made_json_as_before():
    assert_same_entries({"status": "received"}, {"status": "rejected"}, reason="duplicate")
    assert_same_entries(None, {"reason": "x"}, reason=None)
    odd = {"at": datetime(2026, 1, 1, tzinfo=PARIS), "n": 2.0, "ids": (SOME_ID,), 7: Tranche.FOURTH}
    assert_same_entries({"a": 1}, {"a": 2}, reason=odd)
    for mutate in (lambda changes: changes.update({"late": {"after": 3.0}}, more=(1,)),
                   lambda changes: changes.setdefault("late", {"after": 3.0}),
                   lambda changes: changes.__ior__({"late": {"after": 3.0}})):
        new, old = changed_fields({"a": 1}, {"a": 2}), old_changed_fields({"a": 1}, {"a": 2})
        mutate(new)
        mutate(old)
        assert canonical_json(json_safe(old)) == canonical_json(new)
        assert next_entry(None, chain="c", actor=Actor("s", "r"), action="a", target_type="t", target_id="1",
                          changes=new, occurred_at=datetime(2026, 1, 1, tzinfo=UTC)) == \
            old_next_entry(None, chain="c", actor=Actor("s", "r"), action="a", target_type="t", target_id="1",
                           changes=old, occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_changes_given_directly_are_still_made_json():
    """record_entry's callers that pass their own changes (not changed_fields') get them walked as before."""
    for _, after in EXAMPLES:
        changes = after or {}
        arguments = dict(chain="c", actor=Actor("s", "r"), action="a", target_type="t", target_id=1,
                         changes=changes, occurred_at=datetime(2026, 1, 1, tzinfo=PARIS))
        assert next_entry(None, **arguments) == old_next_entry(None, **arguments)


@settings(max_examples=300, deadline=None)
@given(before=objects, after=objects, reason=st.none() | values)
def test_random_values_give_the_entries_the_old_code_gave(before, after, reason):
    assert_same_entries(before, after, reason=reason)


def test_chains_written_by_either_verify_with_the_other():
    """Entries written before the change still verify; entries written after are what the old code wrote."""
    old_chain, new_chain, old_head, new_head = [], [], None, None
    for n, (before, after) in enumerate(EXAMPLES):
        arguments = dict(chain="campaign:c1", actor=Actor("agent-1", "manager"), action="campaign.edit",
                         target_type="campaign", target_id="c1", occurred_at=datetime(2026, 1, 1, tzinfo=UTC)
                         + timedelta(minutes=n))
        old_chain.append(old_next_entry(old_head, changes=old_changed_fields(before, after), **arguments))
        new_chain.append(next_entry(new_head, changes=changed_fields(before, after), **arguments))
        old_head = ChainHead(old_chain[-1].seq, old_chain[-1].hash)
        new_head = ChainHead(new_chain[-1].seq, new_chain[-1].hash)
    assert new_chain == old_chain
    # as read back from PostgreSQL: plain JSON types (JSONB gives the changes back as dicts and lists)
    stored = [dataclasses.replace(entry, changes=json.loads(canonical_json(entry.changes))) for entry in old_chain]
    assert verify_chain("campaign:c1", stored, new_head).ok
    altered = [*stored[:3], dataclasses.replace(stored[3], changes={"title": {"before": None, "after": "forged"}}),
               *stored[4:]]
    assert verify_chain("campaign:c1", altered).broken_seq == 4
