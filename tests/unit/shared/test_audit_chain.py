"""The audit chain (shared/audit.py) as plain Python: hashes, links, and naming the first broken entry."""
import dataclasses
import enum
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared.audit import (
    GENESIS_HASH,
    Actor,
    ChainHead,
    changed_fields,
    entry_hash,
    json_safe,
    next_entry,
    verify_chain,
)

MANAGER = Actor("agent-1", "manager", request_id="req-1")
T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def chain_of(length: int, chain: str = "campaign:c1") -> list:
    entries, head = [], None
    for n in range(length):
        entry = next_entry(head, chain=chain, actor=MANAGER, action="campaign.edit", target_type="campaign",
                           target_id="c1", changes={"title": {"before": f"t{n}", "after": f"t{n + 1}"}},
                           occurred_at=T0 + timedelta(minutes=n))
        entries.append(entry)
        head = ChainHead(entry.seq, entry.hash)
    return entries


def test_an_intact_chain_is_ok_and_each_entry_links_to_the_one_before():
    entries = chain_of(4)
    assert [entry.seq for entry in entries] == [1, 2, 3, 4]
    assert entries[0].previous_hash == GENESIS_HASH
    assert all(later.previous_hash == earlier.hash for earlier, later in zip(entries, entries[1:]))
    report = verify_chain("campaign:c1", entries, ChainHead(4, entries[-1].hash))
    assert report.ok and report.checked == 4
    assert report.describe() == "OK campaign:c1: 4 entries"


def test_the_hash_covers_every_field_of_the_content():
    entry = chain_of(1)[0]
    altered = {"actor_subject": "someone-else", "actor_role": "agent", "on_behalf_of": "family-9",
               "action": "campaign.publish", "target_id": "c2", "request_id": "req-2",
               "occurred_at": T0 + timedelta(microseconds=1), "changes": {"title": {"before": "t0", "after": "x"}}}
    for name, value in altered.items():
        assert dataclasses.replace(entry, **{name: value}).computed_hash() != entry.hash, name


@pytest.mark.parametrize("field, value", [("changes", {"title": {"before": "t1", "after": "forged"}}),
                                          ("actor_subject", "intruder"), ("occurred_at", T0 - timedelta(days=1))])
def test_an_altered_entry_is_named(field, value):
    entries = chain_of(5)
    entries[2] = dataclasses.replace(entries[2], **{field: value})
    report = verify_chain("campaign:c1", entries)
    assert (report.ok, report.broken_seq, report.checked) == (False, 3, 2)
    assert "altered" in report.reason


def test_an_altered_entry_rehashed_breaks_the_next_link():
    entries = chain_of(5)
    forged = dataclasses.replace(entries[1], changes={"title": {"before": "t1", "after": "forged"}})
    entries[1] = dataclasses.replace(forged, hash=forged.computed_hash())
    report = verify_chain("campaign:c1", entries)
    assert report.broken_seq == 3 and "previous hash" in report.reason


def test_a_deleted_entry_is_named_where_it_is_missing():
    entries = chain_of(5)
    del entries[3]
    report = verify_chain("campaign:c1", entries)
    assert report.broken_seq == 4 and report.reason.startswith("missing")


def test_a_deleted_first_entry_is_named():
    report = verify_chain("campaign:c1", chain_of(3)[1:])
    assert report.broken_seq == 1


def test_a_truncated_tail_is_found_through_the_head():
    entries = chain_of(5)
    report = verify_chain("campaign:c1", entries[:3], ChainHead(5, entries[-1].hash))
    assert (report.ok, report.broken_seq) == (False, 4)
    assert "head names 5" in report.reason
    assert verify_chain("campaign:c1", [], ChainHead(2, entries[1].hash)).broken_seq == 1


def test_reordered_entries_are_detected():
    entries = chain_of(4)
    entries[1], entries[2] = entries[2], entries[1]
    assert verify_chain("campaign:c1", entries).broken_seq == 2


def test_an_entry_of_another_chain_is_refused():
    entries = chain_of(2) + chain_of(1, chain="campaign:c2")
    report = verify_chain("campaign:c1", entries)
    assert report.broken_seq == 1 and "campaign:c2" in report.reason


def test_the_hash_is_sha256_of_the_previous_hash_and_canonical_json():
    import hashlib
    content = {"b": 1, "a": "é"}
    assert entry_hash("ab", content) == hashlib.sha256('ab\n{"a":"é","b":1}'.encode()).hexdigest()


def test_the_instant_is_hashed_in_utc_whatever_its_zone():
    paris = timezone(timedelta(hours=1))
    first = next_entry(None, chain="c", actor=MANAGER, action="a", target_type="t", target_id="1", changes={},
                       occurred_at=T0)
    same = dataclasses.replace(first, occurred_at=T0.astimezone(paris))
    assert same.computed_hash() == first.hash


def test_changed_fields_before_and_after_flattened():
    before = {"title": "A", "policy": {"mode": "lottery", "weight": 1}, "offers": {"o1": {"capacity": 24}},
              "opens_at": datetime(2026, 2, 1, 23, 1, tzinfo=UTC), "reference_date": date(2026, 3, 2)}
    after = {**before, "title": "B", "policy": {"mode": "lottery", "weight": 2}, "offers": {"o1": {"capacity": 12}}}
    assert changed_fields(before, after) == {
        "title": {"before": "A", "after": "B"},
        "policy.weight": {"before": 1, "after": 2},
        "offers.o1.capacity": {"before": 24, "after": 12},
    }
    created = changed_fields(None, {"title": "A", "reference_date": date(2026, 3, 2)})
    assert created == {"reference_date": {"before": None, "after": "2026-03-02"},
                       "title": {"before": None, "after": "A"}}
    assert changed_fields(before, before) == {}


def test_json_safe_gives_values_jsonb_keeps_unchanged():
    assert json_safe({"at": datetime(2026, 1, 1, 10, tzinfo=UTC), "n": 2.0, "x": 0.5, "t": (1, 2),
                      "s": frozenset({"b", "a"}), "d": timedelta(hours=1)}) == {
        "at": "2026-01-01T10:00:00.000000+00:00", "n": 2, "x": 0.5, "t": [1, 2], "s": ["a", "b"], "d": 3600}


def test_json_safe_takes_subclasses_of_the_plain_types_the_long_way():
    """The plain types are recognised by their exact type; their subclasses keep the answers they had."""
    class Tranche(enum.IntEnum):
        FOURTH = 4

    class Status(enum.StrEnum):
        RECEIVED = "received"

    some_id = uuid.UUID("6f1c1a3e-1111-4111-8111-111111111111")
    assert json_safe({some_id: [Tranche.FOURTH, Status.RECEIVED, some_id, (True, None)],
                      "ordered": OrderedDict(b=1.0)}) == {
        str(some_id): [4, "received", str(some_id), [True, None]], "ordered": {"b": 1}}
    assert type(json_safe(Tranche.FOURTH)) is Tranche  # an int already: kept as it is, as before


def test_worker_actors_are_named_system():
    assert Actor.system("lifecycle") == Actor("system:lifecycle", "system")
