"""How fast an outbox relay publishes a draw's events: `python -m bench.outbox_relay`.

Starts a private PostgreSQL and Kafka, stores a random campaign (bench/allocation_core.py's), publishes
its draw (`publish_draw`: one `allocation.decided` per application in the outbox, all under the
campaign's key, so on one partition), then times `OutboxRelay.publish_pending` until the outbox is
empty (its CPU, PostgreSQL's and Kafka's from /proc). Producer and relay settings are the arguments, so settings can be compared:

    python -m bench.outbox_relay --rows-per-round 500 --batch-bytes 16384 --compression none   # before
    python -m bench.outbox_relay                                                               # current defaults

A benchmark, not a test: it asserts nothing."""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime

from bench.allocation_core import campaign as random_campaign
from bench.allocation_draw import store
from bench.cpu import CLOCK_TICKS, _all_processes, tree_ticks
from bench.decisions_pipeline import server_pids
from bench.stack import private_servers
from services.allocation.store.tables import outbox
from services.allocation.usecases.draws import publish_draw
from shared.config import Settings
from shared.db import make_engine
from shared.kafka import Producer, ensure_topics
from shared.migrations import upgrade
from shared.outbox import OutboxRelay

DEFAULTS = Settings(service_name="bench-relay")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox_relay", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="applications drawn, hence events relayed")
    parser.add_argument("--rows-per-round", type=int, default=2_000)
    parser.add_argument("--batch-bytes", type=int, default=DEFAULTS.kafka_batch_bytes)
    parser.add_argument("--compression", default=DEFAULTS.kafka_compression_type, help="gzip, none, …")
    parser.add_argument("--linger-ms", type=int, default=DEFAULTS.kafka_linger_ms)
    arguments = parser.parse_args(argv)
    with private_servers(postgres=True, kafka=True, prefix="guichet-bench-relay-") as servers:
        settings = servers.settings("bench-relay", kafka_linger_ms=arguments.linger_ms,
                                    kafka_batch_bytes=arguments.batch_bytes,
                                    kafka_compression_type=arguments.compression)
        upgrade("allocation", settings)
        ensure_topics(settings)
        engine = make_engine(settings)
        policy, offers, applications, seed = random_campaign(arguments.events, max(10, arguments.events // 100), 3, 2026)
        campaign_id = uuid.uuid4()
        store(engine, campaign_id, policy, offers, applications, seed)
        publish_draw(engine, campaign_id, datetime.now(UTC))
        producer = Producer(settings)
        relay = OutboxRelay(engine, outbox, producer, batch_size=arguments.rows_per_round)
        servers_pids = server_pids(servers.folder)
        load = os.getloadavg()[0]
        before = tree_ticks(servers_pids, _all_processes())
        started, cpu = time.perf_counter(), time.process_time()
        relayed = 0
        while published := relay.publish_pending():
            relayed += published
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = tree_ticks(servers_pids, _all_processes())
        producer.close()
        engine.dispose()
    command = "python -m bench.outbox_relay " + " ".join(argv if argv is not None else sys.argv[1:])
    server_cpu = {name: (after[name] - before[name]) / CLOCK_TICKS for name in servers_pids}
    print("| command | cores | load | date | events | wall | events/s | relay CPU | PostgreSQL CPU | Kafka CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| `{command.strip()}` | {os.cpu_count()} | {load:.1f} | {date.today()} | {relayed:,} | {wall:.1f} s "
          f"| {relayed / wall:,.0f} | {cpu:.1f} s | {server_cpu.get('postgres', 0):.1f} s "
          f"| {server_cpu.get('kafka', 0):.1f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
