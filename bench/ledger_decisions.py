"""How fast registrations applies a draw's decisions to its ledger: `python -m bench.ledger_decisions`.

Starts a private PostgreSQL and Redis, stores bench/allocation_core.py's campaign in allocation and every
application in registrations' ledger (as bench/allocation_draw.py does), publishes the draw (`publish_draw`:
one `allocation.decided` per application in allocation's outbox), then hands those events, as the worker's
consumer decodes them from the broker, to the worker's batch handler (`handle_decisions`) in batches of
`--batch` records (the consumer's `max_poll_records`). Timed: the wall clock, this process's CPU time and
the PostgreSQL backend's (read from /proc). Kafka is left out: this is the handler alone.

    python -m bench.ledger_decisions --applications 20000 --offers 200

A benchmark, not a test: it asserts nothing."""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import redis
from sqlalchemy import Engine, func, select, text

from bench.allocation_core import campaign as random_campaign
from bench.allocation_draw import application_rows, ledger_row, store
from bench.cpu import CLOCK_TICKS, parse_stat
from bench.stack import private_servers
from services.allocation.store.tables import outbox
from services.allocation.usecases.draws import publish_draw
from services.registrations.handlers.events import handle_decisions
from services.registrations.settings import RegistrationsSettings
from services.registrations.store.intake_guard import IntakeGuard
from services.registrations.store.tables import applications as ledger
from shared.db import make_engine
from shared.kafka import JsonDeserializer, JsonSerializer, cloudevent_headers
from shared.migrations import upgrade
from shared.outbox import outbox_envelopes


def backend_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        return parse_stat(stat.read())[1] / CLOCK_TICKS


def drawn_campaign(engine: Engine, applications: int, offers: int) -> int:
    """bench/allocation_core.py's campaign stored in allocation, every application in registrations' ledger, the
    draw published (one `allocation.decided` per application in allocation's outbox): how many applications."""
    policy, the_offers, the_applications, seed = random_campaign(applications, offers, 3, 2026)
    campaign_id = uuid.uuid4()
    store(engine, campaign_id, policy, the_offers, the_applications, seed)
    with engine.begin() as connection:
        connection.execute(ledger.insert(), [ledger_row(row) for row in application_rows(campaign_id,
                                                                                          the_applications)])
    publish_draw(engine, campaign_id, datetime.now(UTC))
    return len(the_applications)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_decisions", description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument("--offers", type=int, default=200)
    parser.add_argument("--batch", type=int, default=RegistrationsSettings(service_name="bench").decisions_max_poll_records,
                        help="records per batch (the consumer's max_poll_records)")
    arguments = parser.parse_args(argv)
    with private_servers(postgres=True, redis=True, prefix="guichet-bench-decisions-") as servers:
        settings = servers.settings("bench-decisions")
        upgrade("allocation", settings)
        upgrade("registrations", settings)
        engine = make_engine(settings)
        drawn_campaign(engine, arguments.applications, arguments.offers)
        with engine.connect() as connection:
            envelopes = outbox_envelopes(connection, outbox, "allocation.decided")
            backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        # As the consumer hands them over: the value decoded from the record's JSON, the CloudEvents headers.
        reader, writer = JsonDeserializer(), JsonSerializer()
        records = [SimpleNamespace(value=reader.deserialize("", [], writer.serialize("", [], envelope)),
                                   headers=cloudevent_headers(envelope["type"], envelope["id"]))
                   for envelope in envelopes]
        guard = IntakeGuard(redis.Redis.from_url(servers.redis.url))
        load = os.getloadavg()[0]
        database_cpu = backend_seconds(backend)  # one connection in the pool: the handler's
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(records), arguments.batch):
            handle_decisions(engine, guard, records[start:start + arguments.batch])
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        database_cpu = backend_seconds(backend) - database_cpu
        with engine.connect() as connection:
            told = connection.execute(select(func.count()).select_from(ledger)
                                      .where(ledger.c.status != "received")).scalar_one()
        engine.dispose()
    command = "python -m bench.ledger_decisions " + " ".join(argv if argv is not None else sys.argv[1:])
    print("\n".join((
        "| command | load | decisions | families told | wall | decisions/s | handler CPU | PostgreSQL CPU |",
        "|---|---|---|---|---|---|---|---|",
        f"| `{command.strip()}` | {load:.1f} | {len(records):,} | {told:,} | {wall:.1f} s | {len(records) / wall:,.0f} "
        f"| {cpu:.2f} s | {database_cpu:.2f} s |")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
