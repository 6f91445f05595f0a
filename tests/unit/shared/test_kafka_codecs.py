"""The consumer's JSON reader and the producer's partitioner give what json and kafka-python's default give."""
import json
import random

import pytest
from kafka.partitioner.default import DefaultPartitioner

from shared.kafka import JsonDeserializer, KeyedPartitioner

RECORDS = [
    b'{"a":1,"b":[1.5,2e10,-0.0,1e400,0.1],"c":null,"d":"\\u00e9\\ud83d\\ude00","e":true}',
    b"NaN", b"[Infinity, -Infinity]",  # json reads them, orjson does not
    b"123456789012345678901234567890", b"-9223372036854775809", b"18446744073709551615",  # beyond 64 bits
    b'{"n": 1234567890123456789}', b'"\\ud800"', b'{"a":1,"a":2}', b"  {\"x\": 0.1} ", '{"é":"ü"}'.encode(),
    b'{"type":"allocation.decided","data":{"position":12,"reasons":[]}}',
]


@pytest.mark.parametrize("record", RECORDS)
def test_a_record_is_read_as_json_reads_it(record):
    value = JsonDeserializer().deserialize("topic", [], record)
    expected = json.loads(record)
    assert repr(value) == repr(expected) and type(value) is type(expected)


def test_what_json_cannot_read_still_raises_jsons_error():
    with pytest.raises(json.JSONDecodeError):
        JsonDeserializer().deserialize("topic", [], b"{not json")


class Cluster:
    """The partitioner's view of the cluster: the topics and partitions it lists."""

    def __init__(self, partitions: dict[str, set[int]]):
        self.partitions = partitions

    def topics(self):
        return set(self.partitions)

    def partitions_for_topic(self, topic):
        return self.partitions.get(topic)

    def available_partitions_for_topic(self, topic):
        return self.partitions.get(topic)


def test_a_keyed_record_goes_where_the_default_partitioner_sends_it_once_its_key_is_known_too():
    generator = random.Random(18)
    keyed, default = KeyedPartitioner(remembered=16), DefaultPartitioner()
    for count in (1, 3, 6, 12):
        cluster = Cluster({"t": set(range(count))})
        keys = [generator.randbytes(generator.randint(0, 40)) for _ in range(50)]
        for key in keys + keys:  # the second time from the remembered hash (some forgotten: 16 remembered)
            assert keyed.partition("t", key, key, None, None, cluster) == default.partition(
                "t", key, key, None, None, cluster)
    with pytest.raises(ValueError):
        keyed.partition("unknown", b"k", b"k", None, None, Cluster({}))
