"""From a committed draw to the last family's status: `python -m bench.decisions_pipeline`.

The decisions' phase of "Close to families" (docs/PERFORMANCE.md) without the draw in front of it: a private
PostgreSQL, Kafka and Redis; bench/allocation_core.py's campaign stored in allocation and every application in
registrations' ledger (as bench/allocation_draw.py does); the draw published (`publish_draw`: one
`allocation.decided` per application in allocation's outbox). Then two processes, as in production: the
allocation worker's relay (`OutboxRelay.run`) and the registrations worker's decisions consumer (its
`ConsumerLoop`, joined to its group and idle before the clock starts). Timed from the relay's start: the
last event on the broker, the last family's status in the ledger; each process's CPU, PostgreSQL's and
Kafka's (from /proc).

    python -m bench.decisions_pipeline --applications 100000 --offers 1000

`--rows-per-round`, the producer's settings and the consumer's `--fetch-min-bytes` are arguments, so settings
can be compared. `--notifications batches` (or `one-by-one`, as before its batches) runs the notifications
worker's consumer as a third process and times the last message queued for the decisions too. A benchmark, not a test: it asserts nothing."""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from sqlalchemy import func, select, text

from bench.cpu import CLOCK_TICKS, _all_processes, tree_ticks
from bench.ledger_decisions import drawn_campaign
from bench.stack import private_servers
from shared.config import Settings

DEFAULTS = Settings(service_name="bench-pipeline")


def relay(settings: Settings, rows_per_round: int, go, done, results) -> None:
    """The allocation worker's relay, until the outbox is empty."""
    from services.allocation.store.tables import outbox
    from shared.db import make_engine
    from shared.kafka import Producer
    from shared.outbox import OutboxRelay

    engine = make_engine(settings)
    producer = Producer(settings)
    the_relay = OutboxRelay(engine, outbox, producer, batch_size=rows_per_round)
    go.wait()
    cpu = time.process_time()
    # `OutboxRelay.run`'s rounds, back to back until one finds nothing; the draw committed every row before. (A
    # round holds whole chunks, so it may hold fewer events than `rows_per_round` with more to come.)
    while the_relay.publish_pending():
        pass
    results.put(("relay", time.time(), time.process_time() - cpu))
    done.wait()
    producer.close()


def consumer(settings, fetch_min_bytes: int, ready, done, results) -> None:
    """The registrations worker's decisions consumer, as `services/registrations/worker.py` builds it."""
    import redis

    from services.registrations.handlers.events import handle_decision, handle_decisions
    from services.registrations.store.intake_guard import IntakeGuard
    from shared.db import make_engine
    from shared.kafka import ConsumerLoop
    from shared.topics import ALLOCATION_EVENTS

    engine = make_engine(settings)
    guard = IntakeGuard(redis.Redis.from_url(settings.redis_url))
    loop = ConsumerLoop(settings, "bench-registrations-decisions", [ALLOCATION_EVENTS],
                        handler=partial(handle_decision, engine, guard),
                        batch_handler=partial(handle_decisions, engine, guard),
                        max_poll_records=settings.decisions_max_poll_records,
                        fetch_min_bytes=fetch_min_bytes, fetch_max_wait_ms=200)
    run_timed(loop, "consumer", ready, done, results)


def notifier(settings: Settings, batches: bool, ready, done, results) -> None:
    """The notifications worker's consumer (`services/notifications/worker.py`), with or without its batches."""
    from services.notifications.handlers.events import handle_record, handle_records
    from services.notifications.worker import CONSUMED_TOPICS
    from shared.clock import utc_now
    from shared.db import make_engine
    from shared.kafka import ConsumerLoop

    engine = make_engine(settings)
    loop = ConsumerLoop(settings, "bench-notifications", CONSUMED_TOPICS, handler=partial(handle_record, engine, utc_now),
                        batch_handler=partial(handle_records, engine, utc_now) if batches else None)
    run_timed(loop, "notifier", ready, done, results)


def run_timed(loop, name: str, ready, done, results) -> None:
    """Runs a consumer until `done`; its CPU counted from its partitions' assignment (`ready`), not its start."""
    started = {}

    def until() -> bool:
        if not started and loop._consumer is not None and loop._consumer.assignment():
            started["cpu"] = time.process_time()
            ready.set()
        return done.is_set()

    loop.run(poll_timeout_ms=100, until=until)
    results.put((name, time.time(), time.process_time() - started.get("cpu", 0.0)))


def server_pids(folder: Path) -> dict[str, int]:
    """PostgreSQL's postmaster and Kafka's JVM of this bench's private servers, by their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(folder) in command:
            if "postgres" in command and "-D" in command:
                found["postgres"] = int(entry.name)
            elif "java" in command:
                found["kafka"] = int(entry.name)
    return found


def main(argv: list[str] | None = None) -> int:
    from services.notifications.store.tables import notifications as messages
    from services.registrations.settings import RegistrationsSettings
    from services.registrations.store.tables import applications as ledger
    from shared.db import make_engine
    from shared.kafka import ensure_topics
    from shared.migrations import upgrade

    parser = argparse.ArgumentParser(prog="python -m bench.decisions_pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument("--offers", type=int, default=200)
    parser.add_argument("--rows-per-round", type=int, default=2_000)
    parser.add_argument("--batch-bytes", type=int, default=DEFAULTS.kafka_batch_bytes)
    parser.add_argument("--compression", default=DEFAULTS.kafka_compression_type, help="gzip, none, …")
    parser.add_argument("--fetch-min-bytes", type=int, default=1,
                        help="the consumer's fetch_min_bytes (kafka-python's default: 1; waits at most 200 ms)")
    parser.add_argument("--linger-ms", type=int, default=DEFAULTS.kafka_linger_ms)
    parser.add_argument("--notifications", choices=("none", "batches", "one-by-one"), default="none",
                        help="the notifications worker's consumer beside them (its messages queued are timed too)")
    arguments = parser.parse_args(argv)
    with private_servers(postgres=True, kafka=True, redis=True, prefix="guichet-bench-pipeline-") as servers:
        settings = servers.settings("bench-pipeline", kafka_linger_ms=arguments.linger_ms,
                                    kafka_batch_bytes=arguments.batch_bytes,
                                    kafka_compression_type=arguments.compression)
        registrations = replace(RegistrationsSettings(service_name="bench-pipeline-registrations"),
                                database_url=settings.database_url, redis_url=settings.redis_url,
                                kafka_bootstrap_servers=settings.kafka_bootstrap_servers)
        upgrade("allocation", settings)
        upgrade("registrations", settings)
        upgrade("notifications", settings)
        ensure_topics(settings)
        engine = make_engine(settings)
        applications = drawn_campaign(engine, arguments.applications, arguments.offers)

        spawn = multiprocessing.get_context("spawn")
        go, ready, done, results = spawn.Event(), spawn.Event(), spawn.Event(), spawn.Queue()
        notifier_ready = spawn.Event()
        processes = [spawn.Process(target=consumer, args=(registrations, arguments.fetch_min_bytes, ready, done, results)),
                     spawn.Process(target=relay, args=(settings, arguments.rows_per_round, go, done, results))]
        if arguments.notifications != "none":
            processes.append(spawn.Process(target=notifier, args=(
                settings, arguments.notifications == "batches", notifier_ready, done, results)))
        else:
            notifier_ready.set()
        for process in processes:
            process.start()
        if not ready.wait(120) or not notifier_ready.wait(120):
            raise RuntimeError("a consumer joined no group in 120 s")
        time.sleep(1.0)  # the relay's process has imported and connected meanwhile
        servers_pids = server_pids(servers.folder)
        watching = engine.connect()  # its backend's CPU (counting the families told) is not the phase's
        servers_pids["watching"] = watching.execute(text("SELECT pg_backend_pid()")).scalar_one()
        before = tree_ticks(servers_pids, _all_processes())
        load = os.getloadavg()[0]
        started = time.time()
        go.set()
        told, queued, last_message = 0, 0, None
        while told < applications or (arguments.notifications != "none" and queued < applications):
            time.sleep(0.2)
            if told < applications:
                told = watching.execute(select(func.count()).select_from(ledger)
                                        .where(ledger.c.status != "received")).scalar_one()
                if told == applications:
                    last_family = time.time() - started
            if arguments.notifications != "none":
                queued = watching.execute(select(func.count()).select_from(messages)
                                          .where(messages.c.cause_event_id.is_not(None))).scalar_one()
                if queued >= applications and last_message is None:
                    last_message = time.time() - started
            watching.rollback()
        after = tree_ticks(servers_pids, _all_processes())
        watching.close()
        load_after = os.getloadavg()[0]
        done.set()
        figures = {}
        for _ in processes:
            name, at, cpu = results.get(timeout=60)
            figures[name] = (at - started, cpu)
        for process in processes:
            process.join(timeout=60)
        engine.dispose()
    server_cpu = {name: (after[name] - before[name]) / CLOCK_TICKS for name in servers_pids}
    server_cpu["postgres"] = server_cpu.get("postgres", 0.0) - server_cpu.pop("watching")
    command = "python -m bench.decisions_pipeline " + " ".join(argv if argv is not None else sys.argv[1:])
    notified = ("–", "–") if last_message is None else (f"{last_message:.1f} s", f"{figures['notifier'][1]:.2f} s")
    print("\n".join((
        "| command | load (start → end) | decisions | outbox empty | last family | relay CPU | consumer CPU "
        "| last message queued | notifications CPU | PostgreSQL CPU | Kafka CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| `{command.strip()}` | {load:.1f} → {load_after:.1f} | {applications:,} "
        f"| {figures['relay'][0]:.1f} s | **{last_family:.1f} s** | {figures['relay'][1]:.2f} s "
        f"| {figures['consumer'][1]:.2f} s | {notified[0]} | {notified[1]} | {server_cpu.get('postgres', 0):.2f} s "
        f"| {server_cpu.get('kafka', 0):.2f} s |")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
