"""Do two registrations workers ledger one campaign about twice as fast as one? `python -m bench.ledger_two_consumers`.

Issue 19: intake keys its records by family account and takes each campaign's arrival number in Redis, so one
campaign's applications spread over the intake log's partitions and several consumers of one group write its
ledger. Here one campaign's N applications (`application.submitted` in wire form, keyed by family, numbered
1..N as intake numbers them) are put on a private broker's intake log once (the topic as `shared.topics`
creates it: 12 partitions); then the registrations worker's intake consumer (`worker.intake_group`'s loop,
`handlers.events.handle_submissions`, batches of up to 500) ledgers them into a fresh database, first as one
process, then as two processes of one consumer group (a fresh database and group each, same log, same run).

Timed: from the moment every process holds partitions (the group stable, by the broker's own description) until
the ledger holds all N; rows written before that (the first member starting alone) are left out of the rate.
CPU per row from /proc: the writers' processes and PostgreSQL's. The outbox relay does not run (the ledger's
`application.received` rows wait in the outbox): this is the writer alone, as `bench.ledger_writer`, through
the broker.

    python -m bench.ledger_two_consumers                          # 50,000 applications
    python -m bench.ledger_two_consumers --write                  # and record it in docs/PERFORMANCE.md

A benchmark, not a test: it asserts nothing."""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.cpu import CpuMeter
from bench.report import table
from bench.run import git_describe
from bench.stack import private_servers
from shared.config import Settings
from shared.events import Event
from shared.events.registry import contract_for
from shared.kafka import ConsumerLoop, Producer, client_options, ensure_topics
from shared.migrations import upgrade
from shared.topics import APPLICATION_SUBMISSIONS

REPO = Path(__file__).resolve().parent.parent
PERFORMANCE_MD = REPO / "docs" / "PERFORMANCE.md"
SECTION = "Intake at a fraction of its cost (issue 19)"
SUBSECTION = "Two registrations workers ledger one campaign"


def submitted(campaign_id: str, number: int) -> tuple[str, Event]:
    """The number-th application of the campaign, keyed by its family (two children a family)."""
    family = f"family-{number // 2:07d}"
    application_id = str(uuid.uuid4())
    data = {
        "application_id": application_id, "campaign_id": campaign_id, "family_account": family,
        "child": {"child_id": str(uuid.uuid4()), "first_name": "Inès", "last_name": "Martin",
                  "birth_date": "2016-05-14", "disability_allowance": False, "school": None},
        "household": {"single_parent": False, "quotient_tranche": 4, "quotient_justified_on": "2025-09-30",
                      "residence_arrondissement": 11, "postal_mail": False, "validated_facts": []},
        "choices": [str(uuid.uuid4())], "keep_with_applications": [], "sworn_statement": True,
        "submitted_at": datetime(2026, 2, 8, 23, 1, tzinfo=UTC).isoformat(),
        "hold": {"kind": "none", "offer_id": None, "position": None},
        "acted_by_agent": False, "agent_reason": None, "agent_subject": None, "arrival_number": number,
    }
    return family, Event(type="application.submitted", source="/guichet/registrations",
                         subject=f"applications/{application_id}", data=data,
                         schemaversion=contract_for("application.submitted").version)


def fill_the_log(settings: Settings, count: int) -> None:
    campaign_id = str(uuid.uuid4())
    first = submitted(campaign_id, 1)[1].data
    errors = contract_for("application.submitted").schema().validate(first)
    assert not errors, f"the bench's record no longer follows application.submitted: {errors}"
    producer = Producer(settings, linger_ms=20, batch_size=524_288, compression_type="gzip")
    for number in range(1, count + 1):
        producer.send_event(APPLICATION_SUBMISSIONS.name, *submitted(campaign_id, number))
    producer.flush(timeout=300)
    producer.close()


def fresh_database(servers, name: str) -> str:
    admin = create_engine(servers.postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(servers.postgres.url).set(database=name).render_as_string(hide_password=False)
    upgrade("registrations", replace(servers.settings("bench-ledger-migrations"), database_url=url))
    return url


def ledger_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM registrations.applications")).scalar_one()


def members_with_partitions(settings: Settings, group: str) -> int:
    admin = KafkaAdminClient(**client_options(settings, client_id="bench-ledger-probe"))
    try:
        described = admin.describe_groups([group])[group]
    except KafkaError:  # no coordinator yet: a fresh broker creates its offsets topic with the first group
        return 0
    finally:
        admin.close()
    if described["group_state"] != "Stable":
        return 0
    return sum(1 for member in described["members"]
               if any(assigned["partitions"]
                      for assigned in (member["member_assignment"] or {}).get("assigned_partitions", [])))


@dataclass(frozen=True)
class Run:
    writers: int
    rows: int  # timed
    before: int  # written before every writer held partitions
    seconds: float
    writers_cpu: float
    postgres_cpu: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    def ms_per_row(self, cpu_seconds: float) -> float:
        return 1000 * cpu_seconds / max(self.rows, 1)


def ledger_with(servers, settings: Settings, writers: int, count: int) -> Run:
    url = fresh_database(servers, f"ledger_{writers}_writers")
    group = f"bench-ledger-{writers}-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, **settings.environment(), "DATABASE_URL": url}
    processes = [subprocess.Popen([sys.executable, "-m", "bench.ledger_two_consumers", "--consume", group],
                                  cwd=REPO, env=env, stdout=subprocess.DEVNULL) for _ in range(writers)]
    engine = create_engine(url)
    roots = {**{f"writer {n}": p.pid for n, p in enumerate(processes)}, "postgres": servers.postgres.running_pid()}
    meter = CpuMeter(lambda: roots)
    try:
        while members_with_partitions(settings, group) < writers:
            time.sleep(0.2)
        before, started = ledger_count(engine), time.perf_counter()
        meter.start()
        while (written := ledger_count(engine)) < count:
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        used = {name: cores * seconds for name, cores in meter.stop().items()}  # CPU seconds
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        engine.dispose()
    return Run(writers, written - before, before, seconds,
               sum(value for name, value in used.items() if name.startswith("writer")), used["postgres"])


def consume(group: str) -> None:
    """One writer process: the worker's intake consumer (its settings, `worker.INTAKE_CONSUMER`), until SIGTERM."""
    from services.registrations.handlers.events import handle_submissions
    from services.registrations.worker import INTAKE_CONSUMER

    settings = Settings.from_env("bench-ledger-writer")
    engine = create_engine(settings.database_url)
    write = partial(handle_submissions, engine)
    loop = ConsumerLoop(settings, group, [APPLICATION_SUBMISSIONS], handler=lambda record: write([record]),
                        batch_handler=write, **INTAKE_CONSUMER)  # the worker's own settings
    loop.install_signal_handlers()
    loop.run()


def render(runs: list[Run], command: str, load_before: float, load_after: float, count: int) -> str:
    one = runs[0].rate
    header = ("ledger writers (processes of one group)", "rows timed", "written before the group was stable",
              "seconds", "rows/s", "× one writer", "writers' CPU ms/row", "PostgreSQL CPU ms/row",
              "cores the writers got")
    body = [(run.writers, run.rows, run.before, run.seconds, run.rate, f"{run.rate / one:.2f}",
             run.ms_per_row(run.writers_cpu), run.ms_per_row(run.postgres_cpu), f"{run.writers_cpu / run.seconds:.2f}")
            for run in runs]
    return "\n".join([
        f"`{command}` on {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit `{git_describe()}`; "
        f"load average (1 min) {load_before:.2f} before the run, {load_after:.2f} after.",
        "",
        f"One campaign's {count:,} applications, keyed by family over the intake log's "
        f"{APPLICATION_SUBMISSIONS.partitions} partitions and numbered by intake, ledgered by the registrations "
        "worker's intake consumer as one process, then as two processes of one consumer group, each time into a "
        "fresh database, on a private broker and PostgreSQL on the same machine (bench/ledger_two_consumers.py). "
        "Timed from the moment every writer holds partitions until the ledger holds every application; CPU from "
        "/proc over the same interval. The writers and PostgreSQL share the machine's cores: what the second "
        "writer can add is bounded by the cores left to it.",
        "",
        table(header, body),
    ]) + "\n"


def replace_subsection(markdown: str, section: str, subsection: str, body: str) -> str:
    """`markdown` with `### subsection` of `## section` replaced by `body` (appended at the end of the section when
    absent); everything else byte for byte."""
    start = markdown.index(f"## {section}\n")
    following = re.search(r"^## ", markdown[start + 3:], flags=re.MULTILINE)
    end = len(markdown) if following is None else start + 3 + following.start()
    text_of_section = markdown[start:end]
    heading = f"### {subsection}\n"
    block = f"{heading}\n{body}\n"
    if heading in text_of_section:
        at = text_of_section.index(heading)
        after = re.search(r"^###? ", text_of_section[at + len(heading):], flags=re.MULTILINE)
        stop = len(text_of_section) if after is None else at + len(heading) + after.start()
        text_of_section = text_of_section[:at] + block + text_of_section[stop:]
    else:
        text_of_section = text_of_section.rstrip("\n") + "\n\n" + block
    return markdown[:start] + text_of_section + markdown[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_two_consumers", description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--write", action="store_true",
                        help=f"replace the subsection \"{SUBSECTION}\" of \"{SECTION}\" in docs/PERFORMANCE.md")
    parser.add_argument("--consume", metavar="GROUP", help=argparse.SUPPRESS)  # a writer process of the bench
    arguments = parser.parse_args(argv)
    if arguments.consume:
        consume(arguments.consume)
        return 0
    command = "python -m bench.ledger_two_consumers " + " ".join(argv if argv is not None else sys.argv[1:])
    load_before = os.getloadavg()[0]
    with private_servers(postgres=True, kafka=True, prefix="guichet-bench-ledger-two-") as servers:
        settings = servers.settings("bench-ledger-two", kafka_topic_prefix=f"bench-{uuid.uuid4().hex[:8]}.")
        ensure_topics(settings)
        fill_the_log(settings, arguments.applications)
        runs = []
        for writers in (1, 2):
            run = ledger_with(servers, settings, writers, arguments.applications)
            print(f"{writers} writer(s): {run.rows:,} rows in {run.seconds:.1f} s = {run.rate:,.0f} rows/s "
                  f"({run.before:,} before the group was stable); writers {run.ms_per_row(run.writers_cpu):.2f} "
                  f"ms CPU/row, PostgreSQL {run.ms_per_row(run.postgres_cpu):.2f} ms CPU/row")
            runs.append(run)
    load_after = os.getloadavg()[0]
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after")
    if arguments.write:
        PERFORMANCE_MD.write_text(replace_subsection(
            PERFORMANCE_MD.read_text(encoding="utf-8"), SECTION, SUBSECTION,
            render(runs, command.strip(), load_before, load_after, arguments.applications)), encoding="utf-8")
        print(f"written to {PERFORMANCE_MD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
