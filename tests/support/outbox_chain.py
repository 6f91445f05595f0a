"""A miniature service used by the outbox → relay → broker → inbox tests: one state table, its
outbox, and a consumer whose effects and deliveries are counted. Run as a module, it is the
consumer process the tests kill."""
from __future__ import annotations

import os
import sys

import marshmallow as ma
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select

from shared.config import Settings
from shared.events import EventContract, parse_event, register
from shared.kafka import ConsumerLoop
from shared.outbox import claim_event, inbox_table, outbox_table
from shared.topics import TopicSpec

CHAIN_TOPIC = TopicSpec("chain-events", 3, "test topic for the outbox chain")
CONSUMER = "chain-consumer"


class PingedData(ma.Schema):
    ping_id = ma.fields.String(required=True)


register(EventContract("test.chain-pinged", 1, PingedData, CHAIN_TOPIC, "a ping, for the chain test"))

metadata = MetaData(schema="chain")
pings = Table("pings", metadata, Column("ping_id", String, primary_key=True))
effects = Table("effects", metadata, Column("ping_id", String, primary_key=True), Column("times", Integer))
deliveries = Table("deliveries", metadata, Column("n", Integer, primary_key=True, autoincrement=True),
                   Column("event_id", String))
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def run_consumer(settings: Settings, crash_after_handling: bool, stop_after_deliveries: int) -> None:
    engine = create_engine(settings.database_url)

    def handle(record) -> None:
        event = parse_event(record.value)
        with engine.begin() as connection:
            connection.execute(deliveries.insert().values(event_id=event.id))
            if claim_event(connection, inbox, CONSUMER, event.id, event.type):
                connection.execute(effects.insert().values(ping_id=event.data["ping_id"], times=1))
        if crash_after_handling:
            # Killed after the handler's transaction committed, before the offset commit.
            os._exit(17)

    loop = ConsumerLoop(settings, group_id=f"{settings.kafka_topic_prefix}chain", topics=[CHAIN_TOPIC], handler=handle,
                        session_timeout_ms=6_000, heartbeat_interval_ms=2_000)
    loop.install_signal_handlers()
    loop.run(poll_timeout_ms=200, until=lambda: count(engine, deliveries) >= stop_after_deliveries)


def relay_dying_in_its_second_round(settings: Settings, events_per_round: int) -> None:
    """A relay killed after its second round reached the broker, before that round's marking committed."""
    from shared.kafka import Producer
    from shared.outbox import OutboxRelay

    class Dying(OutboxRelay):
        rounds = 0

        def _mark_published(self, connection, positions) -> None:
            Dying.rounds += 1
            if Dying.rounds == 2:
                os._exit(17)  # the round is on the broker (its sends acknowledged), its marking not committed
            super()._mark_published(connection, positions)

    relay = Dying(create_engine(settings.database_url), outbox, Producer(settings), batch_size=events_per_round)
    while relay.publish_pending():
        pass


if __name__ == "__main__":
    database_url, bootstrap, prefix, crash, stop_after = sys.argv[1:6]
    if crash == "relay-dies":
        relay_dying_in_its_second_round(Settings(service_name="chain-relay", database_url=database_url,
                                                 kafka_bootstrap_servers=bootstrap, kafka_topic_prefix=prefix),
                                        events_per_round=int(stop_after))
        sys.exit(0)
    run_consumer(Settings(service_name="chain-consumer", database_url=database_url,
                          kafka_bootstrap_servers=bootstrap, kafka_topic_prefix=prefix),
                 crash_after_handling=crash == "crash", stop_after_deliveries=int(stop_after))
