"""Reads the billing feed the way a downstream consumer should.

- Commit after storing: the consumer loop commits a partition's offsets only once its records are
  in the database, so a crash re-reads them instead of losing them.
- Idempotent by line id: re-read records (after a crash, a rebalance, or a producer's retry) find
  their line already stored.
- Ordered per family: the feed is keyed by family account, so a family's lines are on one
  partition, in order; one partition's records are written in one transaction, in that order.
- Contract-checked: a record that breaks its contract goes to the dead-letter topic; event types
  this consumer does not know (added to the feed later) are skipped, not failed.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from examples.billing_preview.invoices import FEED_TYPES, InvoiceLine
from examples.billing_preview.store import record_lines
from shared.config import Settings
from shared.events import parse_event
from shared.kafka import ConsumerLoop
from shared.topics import BILLING_FEED


def store_records(engine: Engine, records: list[Any]) -> None:
    events = [parse_event(record.value) for record in records if record.value.get("type") in FEED_TYPES]
    with engine.begin() as connection:
        record_lines(connection, [(event.id, line) for event in events
                                  for line in InvoiceLine.all_from_feed(event.type, event.data)])


def feed_consumer(settings: Settings, engine: Engine) -> ConsumerLoop:
    return ConsumerLoop(settings, f"{settings.kafka_topic_prefix}billing-preview", [BILLING_FEED],
                        handler=lambda record: store_records(engine, [record]),
                        batch_handler=lambda records: store_records(engine, records))
