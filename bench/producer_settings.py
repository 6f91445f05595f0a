"""What one acknowledged intake record costs in kafka-python, settings side by side (issue 19):
`python -m bench.producer_settings`.

Intake sends one `application.submitted` record per request and answers 202 only when the broker
acknowledged it (acks=all, idempotent producer: the durability the project keeps). Here N threads
(gunicorn's threads of one registrations process) each send such a record and wait for its
acknowledgement, in a loop, for a fixed time, through one shared producer, on a private broker. Per
settings row: acknowledged records a second, the process's CPU per acknowledged record (every thread:
the senders, kafka-python's sender thread, the serialisers) and the acknowledgement's latency.

Only settings that keep the durability are compared (acks=all, idempotence on): linger, batch size,
compression, in-flight requests. The record is the contract's own example, about the size intake
sends. The machine's other load moves the rates; CPU per record moves much less, so compare that.

    python -m bench.producer_settings                       # every row, 2 rounds of 5 s, 16 threads
    python -m bench.producer_settings --write               # and record it in docs/PERFORMANCE.md

A benchmark, not a test: it asserts nothing."""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import replace_sections, table
from bench.run import git_describe
from bench.stack import private_servers
from shared.events import make_event
from shared.events.registry import contract_for
from shared.kafka import Producer, ensure_topics
from shared.topics import APPLICATION_SUBMISSIONS

PERFORMANCE_MD = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
SECTION = "Producer settings (issue 19)"

# (label, overrides of the intake producer); the first row is what intake runs with (Runtime.request_producer).
ROWS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("intake today: linger 5 ms, 16 KB batches, no compression, 5 in flight",
     {"compression_type": None, "batch_size": 16_384}),
    ("linger 0 ms", {"compression_type": None, "batch_size": 16_384, "linger_ms": 0}),
    ("linger 2 ms", {"compression_type": None, "batch_size": 16_384, "linger_ms": 2}),
    ("linger 20 ms", {"compression_type": None, "batch_size": 16_384, "linger_ms": 20}),
    ("gzip", {"compression_type": "gzip", "batch_size": 16_384}),
    ("512 KB batches, gzip (the relays' producer)", {"compression_type": "gzip", "batch_size": 524_288}),
    ("1 request in flight", {"compression_type": None, "batch_size": 16_384,
                             "max_in_flight_requests_per_connection": 1}),
    # No linger, one request at a time: records that arrive while a request is out wait for its answer and
    # leave together (a batch as large as the load makes it, none made to wait when there is no load).
    ("linger 0 ms, 1 request in flight", {"compression_type": None, "batch_size": 16_384, "linger_ms": 0,
                                          "max_in_flight_requests_per_connection": 1}),
    ("linger 0 ms, 2 requests in flight", {"compression_type": None, "batch_size": 16_384, "linger_ms": 0,
                                           "max_in_flight_requests_per_connection": 2}),
)


@dataclass(frozen=True)
class Row:
    label: str
    acknowledged: int
    seconds: float
    cpu_seconds: float
    broker_cpu_seconds: float
    produce_requests: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.acknowledged / self.seconds

    @property
    def cpu_ms_per_record(self) -> float:
        return 1000 * self.cpu_seconds / max(self.acknowledged, 1)

    @property
    def broker_cpu_ms_per_record(self) -> float:
        return 1000 * self.broker_cpu_seconds / max(self.acknowledged, 1)

    @property
    def records_per_request(self) -> float:
        return self.acknowledged / self.produce_requests if self.produce_requests else float("nan")

    def latency(self, quantile: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] if ordered else 0.0


def intake_record() -> dict[str, Any]:
    """`application.submitted` as intake puts it on the wire: the contract's example in an envelope."""
    contract = contract_for("application.submitted")
    data = contract.schema().load(contract.example)
    return make_event("application.submitted", source="bench", subject=f"campaigns/{data['campaign_id']}",
                      data=data).to_dict()


def process_cpu_seconds(pid: int | None) -> float:
    """User and system CPU of a process and its children so far (the broker's JVM), 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def measure(settings, label: str, overrides: dict[str, Any], threads: int, seconds: float,
            broker_pid: int | None = None) -> Row:
    producer = Producer(settings, **overrides)
    record = intake_record()
    # Keyed by family, as intake's records are: spread over the topic's partitions, a batch per partition.
    families = itertools.cycle([f"family-{n}" for n in range(10_007)])
    producer.publish(APPLICATION_SUBMISSIONS.name, next(families), record)  # connected, metadata known: not timed
    latencies: list[list[float]] = [[] for _ in range(threads)]
    deadline = time.perf_counter() + seconds

    def send_and_wait(own: list[float]) -> None:
        while (started := time.perf_counter()) < deadline:
            producer.send(APPLICATION_SUBMISSIONS.name, next(families), record).get(timeout=30)
            own.append(1000 * (time.perf_counter() - started))

    workers = [threading.Thread(target=send_and_wait, args=(own,)) for own in latencies]
    cpu, wall, broker = time.process_time(), time.perf_counter(), process_cpu_seconds(broker_pid)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    broker = process_cpu_seconds(broker_pid) - broker
    every = [latency for own in latencies for latency in own]
    # kafka-python's own count (an average over the producer's life, which is this row's plus one record).
    per_request = producer.current.metrics().get("producer-metrics", {}).get("records-per-request-avg") or 0.0
    producer.close()
    return Row(label, len(every), wall, cpu, broker, (len(every) + 1) / per_request if per_request else 0.0, every)


def render(rows: list[Row], command: str, load: float, threads: int) -> str:
    header = ("producer settings (acks=all, idempotent)", "acknowledged/s", "CPU ms per record",
              "broker CPU ms per record", "records per produce request", "ack p50 ms", "ack p99 ms")
    body = [(row.label, row.rate, row.cpu_ms_per_record, row.broker_cpu_ms_per_record, row.records_per_request,
             row.latency(0.5), row.latency(0.99)) for row in rows]
    return "\n".join([
        f"`{command}` on {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit `{git_describe()}`; "
        f"load average (1 min) before the run: {load:.2f}.",
        "",
        f"{threads} threads of one process each send intake's record (`application.submitted`, the contract's "
        "example, keyed by family over the topic's partitions as intake's are) and wait for the broker's acknowledgement, through one shared producer, on a private broker on "
        "the same machine (bench/producer_settings.py), every row in two rounds in alternating order after a 3 s warm-up. CPU is the whole process's (the threads, kafka-python's "
        "sender thread, serialisation) per acknowledged record, the broker's (its JVM, from /proc) beside it; records per "
        "produce request is kafka-python's own average; rates move with the machine's other load, CPU "
        "much less.",
        "",
        table(header, body),
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.producer_settings", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16, help="concurrent senders (gunicorn threads)")
    parser.add_argument("--seconds", type=float, default=5.0, help="per settings row and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over every row, in alternating order")
    parser.add_argument("--write", action="store_true", help=f"replace the \"{SECTION}\" section of "
                                                             "docs/PERFORMANCE.md")
    arguments = parser.parse_args(argv)
    command = "python -m bench.producer_settings " + " ".join(argv if argv is not None else sys.argv[1:])
    load = os.getloadavg()[0]
    with private_servers(postgres=False, kafka=True, prefix="guichet-bench-producer-") as servers:
        settings = servers.settings("bench-producer", kafka_topic_prefix=f"bench-{uuid.uuid4().hex[:8]}.")
        ensure_topics(settings)
        broker_pid = servers.kafka.recorded_pid()
        measure(settings, "warm-up", ROWS[0][1], arguments.threads, 3.0)  # broker and client warm: not recorded
        rounds: dict[str, list[Row]] = {label: [] for label, _ in ROWS}
        for round_number in range(arguments.rounds):
            # Alternate the order: a row first in one round is last in the next, so drift spreads over all.
            order = ROWS if round_number % 2 == 0 else tuple(reversed(ROWS))
            for label, overrides in order:
                row = measure(settings, label, overrides, arguments.threads, arguments.seconds, broker_pid)
                print(f"{label:72} {row.rate:8.0f}/s  CPU {row.cpu_ms_per_record:5.2f} ms/record  "
                      f"broker {row.broker_cpu_ms_per_record:5.2f} ms/record  {row.records_per_request:5.1f}/request  "
                      f"p50 {row.latency(0.5):6.1f} ms  p99 {row.latency(0.99):6.1f} ms")
                rounds[label].append(row)
        rows = [Row(label, sum(r.acknowledged for r in runs), sum(r.seconds for r in runs),
                    sum(r.cpu_seconds for r in runs), sum(r.broker_cpu_seconds for r in runs),
                    sum(r.produce_requests for r in runs), [lat for r in runs for lat in r.latencies_ms])
                for label, runs in rounds.items()]
    if arguments.write:
        PERFORMANCE_MD.write_text(replace_sections(PERFORMANCE_MD.read_text(encoding="utf-8"), {
            SECTION: render(rows, command.strip(), load, arguments.threads)}), encoding="utf-8")
        print(f"written to {PERFORMANCE_MD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
