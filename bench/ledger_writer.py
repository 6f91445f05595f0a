"""What the intake consumer's ledger writer costs a row: `python -m bench.ledger_writer`.

    python -m bench.ledger_writer                                   # 6,000 rows in polls of 100, then of 500
    python -m bench.ledger_writer --applications 6000 --batch 50 100 500 --rounds 3

Starts a private PostgreSQL, migrates the registrations schema, and hands the registrations worker's batch
handler (`handlers.events.handle_submissions`: each poll's records in one transaction) the records of one
campaign as the intake consumer receives them: `application.submitted` in wire form, keyed by family, numbered
by intake, read by the consumer's own deserializer, `--batch` records a poll. The broker is not part of this figure
(`bench.ledger_two_consumers` has it). Each batch size in turn, `--rounds` times, each time into a fresh campaign
of the same database. Prints per batch size the rows a second, this process's CPU per row (the writer: decoding,
checking, the rows, the audit chain, the driver), of which the audit entries' preparation before SQL (replayed
on the same records after each run, outside the database and the writer's figure) and PostgreSQL's CPU per row,
median of the rounds (least).
A benchmark, not a test: it asserts nothing."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import orjson
from sqlalchemy import create_engine

from bench.cpu import CpuMeter
from bench.ledger_two_consumers import submitted
from bench.stack import private_servers
from services.registrations.domain.applications import ApplicationStatus
from services.registrations.handlers.events import handle_submissions
from services.registrations.store.ledger import ledger_row
from services.registrations.usecases.ledger import IntakeRecord, intake_entry
from shared.audit import ChainHead, next_entry
from shared.contracts.applications import ApplicationSubmittedSchema
from shared.db import json_rows
from shared.kafka import JsonDeserializer
from shared.migrations import upgrade


@dataclass(frozen=True)
class Record:
    """What the consumer's batch handler reads of a Kafka record."""
    value: bytes
    partition: int
    offset: int


def wire_records(count: int, partitions: int = 12) -> list[Record]:
    """One campaign's `count` submissions as they lie on the intake log: each family's on its partition."""
    campaign_id = str(uuid.uuid4())
    records, offsets = [], defaultdict(int)
    for number in range(1, count + 1):
        family, event = submitted(campaign_id, number)
        partition = zlib.crc32(family.encode()) % partitions
        records.append(Record(orjson.dumps(event.to_dict()), partition, offsets[partition]))
        offsets[partition] += 1
    errors = ApplicationSubmittedSchema().validate(orjson.loads(records[0].value)["data"])
    assert not errors, f"the bench's submission no longer follows application.submitted: {errors}"
    return records


@dataclass(frozen=True)
class Measured:
    batch: int
    rows: int
    seconds: float
    writer_cpu_s: float
    postgres_cpu_s: float
    audit_cpu_s: float = 0.0


def audit_preparation_cpu(records: list[Record], batch: int) -> float:
    """The CPU the writer's audit entries cost before SQL, replayed on the same records outside the database: each
    poll's intake entries (`intake_entry`), chained (`next_entry`), as the entries' JSON document."""
    read = JsonDeserializer().deserialize
    now = datetime.now(UTC)
    prepared = []
    for position, record in enumerate(records, 1):
        data = read("", None, record.value)["data"]
        prepared.append((IntakeRecord(data, record.partition, record.offset),
                         ledger_row(data, record.partition, position, ApplicationStatus.RECEIVED, None)))
    cpu = time.process_time()
    for first in range(0, len(prepared), batch):
        heads: dict[str, ChainHead] = {}
        entries = []
        for intake, row in prepared[first:first + batch]:
            pending = intake_entry(intake, row, now)
            entry = next_entry(heads.get(pending.chain), chain=pending.chain, actor=pending.actor,
                               action=pending.action, target_type=pending.target_type, target_id=pending.target_id,
                               changes=pending.changes, occurred_at=pending.occurred_at)
            heads[pending.chain] = ChainHead(entry.seq, entry.hash)
            entries.append(entry)
        json_rows([vars(entry) for entry in entries])
    return time.process_time() - cpu


def write_ledger(write, postgres_pid: int, records: list[Record], batch: int) -> Measured:
    read = JsonDeserializer().deserialize
    meter = CpuMeter(lambda: {"postgres": postgres_pid})
    meter.start()
    cpu, started = time.process_time(), time.perf_counter()
    for first in range(0, len(records), batch):
        write([Record(read("", None, r.value), r.partition, r.offset) for r in records[first:first + batch]])
    seconds, writer = time.perf_counter() - started, time.process_time() - cpu
    postgres = meter.stop()["postgres"] * seconds
    return Measured(batch, len(records), seconds, writer, postgres, audit_preparation_cpu(records, batch))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=6000, help="rows per batch size and round")
    parser.add_argument("--batch", type=int, nargs="+", default=[100, 500],
                        help="records per poll, as the consumer gets them (default 100 500)")
    parser.add_argument("--rounds", type=int, default=2, help="each batch size this many times, alternated")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with private_servers(postgres=True, prefix="guichet-bench-ledger-") as servers:
        upgrade("registrations", servers.settings("bench-ledger"))
        engine = create_engine(servers.postgres.url)
        write = partial(handle_submissions, engine)
        write_ledger(write, servers.postgres.running_pid(), wire_records(500), 100)  # warm-up: caches, plans
        runs: dict[int, list[Measured]] = defaultdict(list)
        for _ in range(args.rounds):
            for batch in args.batch:
                runs[batch].append(write_ledger(write, servers.postgres.running_pid(),
                                                wire_records(args.applications), batch))
        engine.dispose()
    print(f"\n`python -m bench.ledger_writer {' '.join(argv if argv is not None else sys.argv[1:])}` on "
          f"{len(os.sched_getaffinity(0))} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average (1 min) "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after; {args.rounds} rounds, median (least)\n")
    print("| records a poll | rows/s | writer CPU ms/row | of which audit entries' preparation | PostgreSQL CPU ms/row |")
    print("|---|---|---|---|---|")
    for batch, measured in runs.items():
        def median_least(values: list[float]) -> str:
            return f"{statistics.median(values):.3f} ({min(values):.3f})"
        print(f"| {batch} | {statistics.median(m.rows / m.seconds for m in measured):,.0f} | "
              f"{median_least([1000 * m.writer_cpu_s / m.rows for m in measured])} | "
              f"{median_least([1000 * m.audit_cpu_s / m.rows for m in measured])} | "
              f"{median_least([1000 * m.postgres_cpu_s / m.rows for m in measured])} |")


if __name__ == "__main__":
    main()
