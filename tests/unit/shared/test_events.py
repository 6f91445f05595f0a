import uuid

import marshmallow as ma
import pytest

from shared.events import (
    EventContract,
    EventError,
    event_from_wire,
    event_from_wire_checked_once,
    make_event,
    parse_event,
    parse_event_checked_once,
    register,
)
from shared.topics import TopicSpec


class PingData(ma.Schema):
    campaign_id = ma.fields.UUID(required=True)
    count = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


register(EventContract("test.pinged", 2, PingData, TopicSpec("test-topic", 1, "test"), "a test event"))


def test_make_event_serialises_data_through_the_contract():
    campaign = uuid.uuid4()
    event = make_event("test.pinged", source="/tests", subject=f"campaigns/{campaign}",
                       data={"campaign_id": campaign, "count": 3})
    wire = event.to_dict()
    assert wire["specversion"] == "1.0" and wire["type"] == "test.pinged"
    assert wire["data"] == {"campaign_id": str(campaign), "count": 3}
    assert wire["schemaversion"] == 2 and wire["time"].endswith("Z")
    assert parse_event(wire) == event


def test_make_event_refuses_data_outside_the_contract():
    with pytest.raises(EventError):
        make_event("test.pinged", source="/tests", subject="x", data={"campaign_id": uuid.uuid4(), "count": -1})


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("id"),
    lambda e: e.update(specversion="0.3"),
    lambda e: e.update(type="nobody.knows"),
    lambda e: e["data"].update(count="many"),
    lambda e: e.update(schemaversion=3),
], ids=["no-id", "old-spec", "unknown-type", "bad-data", "newer-version"])
def test_parse_event_rejects_what_breaks_the_envelope_or_contract(mutate):
    wire = make_event("test.pinged", source="/tests", subject="x",
                      data={"campaign_id": uuid.uuid4(), "count": 1}).to_dict()
    mutate(wire)
    with pytest.raises(EventError):
        parse_event(wire)


def test_a_type_cannot_be_registered_twice_with_another_contract():
    with pytest.raises(ValueError):
        register(EventContract("test.pinged", 1, PingData, TopicSpec("other", 1, "x"), "clash"))


def test_fields_added_later_within_a_version_are_tolerated():
    wire = make_event("test.pinged", source="/tests", subject="x",
                      data={"campaign_id": uuid.uuid4(), "count": 1}).to_dict()
    wire["data"]["added_in_a_later_release"] = "ignored by older consumers"
    assert parse_event(wire).data["count"] == 1


def test_a_batch_checks_the_first_event_of_a_type_in_full_and_the_others_by_their_envelope():
    def pinged(count):
        return make_event("test.pinged", source="/tests", subject="campaigns/x",
                          data={"campaign_id": uuid.uuid4(), "count": count}).to_dict()

    checked: set[str] = set()
    with pytest.raises(EventError):
        parse_event_checked_once({**pinged(1), "data": {"count": -1}}, checked)  # the first: in full
    first, second = pinged(1), pinged(2)
    assert parse_event_checked_once(first, checked) == parse_event(first)
    assert parse_event_checked_once(second, checked) == parse_event(second)  # by its envelope, the same event
    assert checked == {"test.pinged"}
    for broken_envelope in ({**second, "id": ""}, {**second, "schemaversion": 9}, {**second, "time": "yesterday"}):
        with pytest.raises(EventError):
            parse_event_checked_once(broken_envelope, checked)  # not what was checked: in full, refused


def test_a_batch_builds_the_first_event_of_a_type_checked_in_full_and_the_others_as_they_are():
    checked: set[str] = set()
    with pytest.raises(EventError):
        event_from_wire_checked_once("test.pinged", checked, source="/tests", subject="x", data={"count": -1})
    assert checked == set()  # a refused first event checks nothing: the next is checked in full again
    data = {"campaign_id": str(uuid.uuid4()), "count": 1}
    first = event_from_wire_checked_once("test.pinged", checked, source="/tests", subject="x", data=data, id="e-1")
    assert first == event_from_wire("test.pinged", source="/tests", subject="x", data=data, id="e-1",
                                    time=first.time)
    assert checked == {"test.pinged"}
    second = event_from_wire_checked_once("test.pinged", checked, source="/tests", subject="y",
                                          data={**data, "count": 2})
    assert (second.type, second.subject, second.data["count"], second.schemaversion) == ("test.pinged", "y", 2, 2)
