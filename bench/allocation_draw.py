"""Time a whole draw (issue 5: 100,000 applications with 3 ranked choices over 1,000 offers; the core
under 2 s and the whole run under 20 s on the 2-core machine; issue 18: 1 s and 10 s, and the last family
told 60 s after the close), and from the close to the last decision on the broker (issue 7).

    python -m bench.allocation_draw                          # 100,000 × 1,000, 3 choices
    python -m bench.allocation_draw --write                  # and record it in docs/PERFORMANCE.md
    python -m bench.allocation_draw --applications 20000 --offers 300 --no-broker

The campaign is the one bench/allocation_core.py builds, stored as the worker stores campaign and
application events. Then `publish_draw` is timed: the whole run, with its reads, the core, and
every write of its one transaction (decisions, places, waitlist entries, outbox events, the draw
bundle). The core is then timed alone on the same inputs. Family histories are empty (no earlier
campaign is stored), so the core's inputs differ from bench/allocation_core.py's on those facts.
Then, unless --no-broker, the same campaign is stored in a fresh database and the allocation worker
runs as a process on a private Kafka broker: `campaign.closed` is sent and the time to the draw's
commit and to the last `allocation.decided` on the broker is taken. Then (issue 18) the same campaign
once more, with the registrations worker beside it, every application in its ledger and intake's guard
built from it (as a worker running since the opening has it): the allocation
worker keeps its production fallback wait (5 min), so the draw starts when registrations announces that
intake drained past the close (`application.intake_closed`, after its 10 s grace), and the time from
`campaign.closed` to the last family's status changed in the ledger is taken, split at the draw's commit and at the
moment the allocation outbox is empty (every decision relayed to the broker), with the CPU each process tree took in
each part (the two workers, PostgreSQL, Kafka). The campaign's activities start 90 days after the run, so that no
offered place's deadline has passed while it is measured.

It starts its own PostgreSQL and Kafka (a benchmark must not write 100,000 applications into a
shared database). A benchmark, not a test: it asserts nothing."""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Engine, create_engine, func, make_url, select, text

from bench.allocation_core import campaign as random_campaign
from bench.cpu import CLOCK_TICKS, _all_processes, tree_ticks
from bench.report import replace_sections
from bench.stack import free_ports
from deploy.local.servers import REPO, KafkaServer, PostgresServer, RedisServer
from services.allocation.domain import Application, CampaignPolicy, Offer, PriorityCriterion, allocate, commitment
from services.allocation.settings import AllocationSettings
from services.allocation.store.repository import get_campaign, mark_closed, published_run, save_seed, save_snapshot
from services.allocation.store.tables import applications, outbox
from services.allocation.usecases.draws import draw_inputs, publish_draw
from services.registrations.settings import RegistrationsSettings
from services.registrations.store.campaign_directory import record_campaign_event
from services.registrations.store.intake_guard import READY_KEY
from services.registrations.store.tables import applications as ledger
from services.registrations.store.tables import outbox as registrations_outbox
from shared.config import Settings
from shared.db import make_engine
from shared.events import event_from_wire, make_event
from shared.kafka import Producer, ensure_topics, group_lag, group_positions
from shared.migrations import upgrade
from shared.redis_client import make_redis
from shared.topics import ALLOCATION_EVENTS, APPLICATION_EVENTS, CAMPAIGN_EVENTS, physical_name
from shared.waiting import wait_until

PERFORMANCE_MD = REPO / "docs" / "PERFORMANCE.md"
SECTION = "Allocation draw"

REFERENCE_DATE = date(2026, 3, 2)
# The activities start this long after the run: since issue 18 an offered place's deadline is capped before its
# activity starts, so with past activity dates the worker's expiry loop would expire every place (one transaction
# each, an `offer.expired` each) during the measurement. The core reads no activity date: results are unchanged.
ACTIVITY_AFTER = timedelta(days=90)
NAMES = uuid.UUID("0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c33")  # offer and child names → stable UUIDs


def snapshot(campaign_id: uuid.UUID, policy: CampaignPolicy, offers: list[Offer]) -> dict:
    """The `campaign.published` data (JSON form) of the benchmark's campaign."""
    opens_at = datetime(2026, 2, 1, 23, 1, tzinfo=UTC)
    starts_on = date.today() + ACTIVITY_AFTER
    return {
        "campaign_id": str(campaign_id), "version": 1, "title": "Benchmark", "kind": "sport_vacances",
        "status": "closed", "opens_at": opens_at.isoformat(), "closes_at": (opens_at + timedelta(days=26)).isoformat(),
        "reference_date": REFERENCE_DATE.isoformat(), "max_choices": policy.max_choices,
        "policy": {"mode": str(policy.mode), "criteria": [_criterion(c) for c in policy.criteria],
                   "reserved_shares": [{"criterion": _criterion(r.criterion), "share": float(r.share)}
                                       for r in policy.reserved_shares],
                   "lottery_weight_per_unsuccessful_year": policy.lottery_weight_per_unsuccessful_year,
                   "keep_siblings_together": policy.keep_siblings_together, "acceptance_delay_hours": 72},
        "offers": [{"offer_id": str(_named(offer.offer_id)), "title": offer.offer_id, "site": "Bench",
                    "arrondissement": offer.arrondissement, "starts_on": starts_on.isoformat(),
                    "ends_on": (starts_on + timedelta(days=4)).isoformat(),
                    "min_age": offer.min_age, "max_age": offer.max_age, "capacity": offer.capacity,
                    "waitlist_limit": offer.waitlist_limit, "tariffs_cents": [100 * n for n in range(1, 11)]}
                   for offer in offers],
    }


def application_rows(campaign_id: uuid.UUID, the_applications: list[Application]) -> list[dict]:
    """The rows the worker stores from `application.received`, with each child born on 1 January."""
    groups = defaultdict(list)
    for application in the_applications:
        if application.sibling_group_id is not None:
            groups[application.sibling_group_id].append(uuid.UUID(application.application_id))
    by_arrival = sorted(the_applications, key=lambda a: a.arrival_position)
    rank = {application.application_id: number for number, application in enumerate(by_arrival, start=1)}
    rows = []
    for application in the_applications:
        application_id, facts = uuid.UUID(application.application_id), application.facts
        rows.append(dict(
            application_id=application_id, campaign_id=campaign_id, family_account=application.family_account,
            child_id=_named(application.child_id),
            child={"child_id": str(_named(application.child_id)), "first_name": "Bench", "last_name": "Child",
                   "birth_date": date(REFERENCE_DATE.year - application.age_at_reference_date, 1, 1).isoformat(),
                   "disability_allowance": facts.disability_allowance, "school": None},
            household={"single_parent": facts.single_parent, "quotient_tranche": facts.quotient_tranche,
                       "quotient_justified_on": None, "residence_arrondissement": facts.residence_arrondissement,
                       "postal_mail": False},
            choices=[_named(offer_id) for offer_id in application.choices],
            keep_with_applications=[sibling for sibling in groups.get(application.sibling_group_id, ())
                                    if sibling != application_id],
            arrival_position=application.arrival_position, arrival_rank=rank[application.application_id],
            submitted_at=datetime(2026, 2, 2, tzinfo=UTC)))
    return rows


def store(engine: Engine, campaign_id: uuid.UUID, policy, offers, the_applications, seed: bytes,
          closed: bool = True) -> None:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        save_snapshot(connection, snapshot(campaign_id, policy, offers))
        connection.execute(applications.insert(), application_rows(campaign_id, the_applications))
        save_seed(connection, campaign_id, seed, commitment(seed), now)
        if closed:
            mark_closed(connection, campaign_id, now)


def _criterion(criterion: PriorityCriterion) -> dict:
    return {"name": str(criterion.name), "max_tranche": criterion.max_tranche}


def _named(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMES, name)


@dataclass
class WholeRun:
    stored: float
    core: float
    whole: float
    placed: int
    events: int
    core_cpu: float = 0.0  # this process's CPU time: the load stretches wall-clock times, much less these
    whole_cpu: float = 0.0
    whole_postgres_cpu: float = 0.0  # PostgreSQL's processes during the whole run (its backend, WAL writer, ...)


def cpu_seconds(roots: dict[str, int | None]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree (from /proc)."""
    return {name: ticks / CLOCK_TICKS for name, ticks in tree_ticks(roots, _all_processes()).items()}


def time_the_draw(settings: Settings, arguments, postgres_pid: int | None = None) -> WholeRun:
    """`publish_draw` in this process, then `allocate` alone on the same inputs."""
    upgrade("allocation", settings)
    engine = make_engine(settings)
    try:
        policy, offers, the_applications, seed = random_campaign(
            arguments.applications, arguments.offers, arguments.choices, arguments.seed)
        campaign_id = uuid.uuid4()
        started = time.perf_counter()
        store(engine, campaign_id, policy, offers, the_applications, seed)
        stored = time.perf_counter() - started
        server = cpu_seconds({"postgres": postgres_pid})
        started, cpu = time.perf_counter(), time.process_time()
        publish_draw(engine, campaign_id, datetime.now(UTC))
        whole, whole_cpu = time.perf_counter() - started, time.process_time() - cpu
        whole_postgres_cpu = cpu_seconds({"postgres": postgres_pid})["postgres"] - server["postgres"]
        with engine.connect() as connection:
            inputs = draw_inputs(connection, get_campaign(connection, campaign_id))
            events = connection.execute(select(func.sum(outbox.c.event_count))).scalar_one()
        started, cpu = time.perf_counter(), time.process_time()
        result = allocate(inputs.policy, inputs.offers, inputs.applications, seed)
        core, core_cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        engine.dispose()
    return WholeRun(stored, core, whole, result.statistics.allocated, events, core_cpu, whole_cpu, whole_postgres_cpu)


@dataclass
class CloseToPublished:
    to_draw_committed: float  # campaign.closed sent → the draw's transaction committed
    to_last_decision: float  # campaign.closed sent → the last allocation.decided acknowledged by the broker
    decisions: int


def time_close_to_last_decision(settings: AllocationSettings, arguments, folder: Path) -> CloseToPublished:
    """The allocation worker as a process (`python -m services.allocation.worker`, draw delay 0) on a
    private broker: from `campaign.closed` on the broker to the last `allocation.decided` on it."""
    ensure_topics(settings)
    upgrade("allocation", settings)
    engine = make_engine(settings)
    log = folder / "allocation-worker.log"
    env = {**os.environ, **settings.environment(), "LOG_LEVEL": "WARNING"}
    with open(log, "w") as output:
        worker = subprocess.Popen([sys.executable, "-m", "services.allocation.worker"], cwd=REPO, env=env,
                                  stdout=output, stderr=subprocess.STDOUT)
    try:
        policy, offers, the_applications, seed = random_campaign(
            arguments.applications, arguments.offers, arguments.choices, arguments.seed)
        campaign_id = uuid.uuid4()
        store(engine, campaign_id, policy, offers, the_applications, seed, closed=False)
        # The worker is live once it has read (and committed) a first event on the campaigns topic.
        announce_window(settings, "campaign.opened", campaign_id, datetime.now(UTC))
        _wait(lambda: group_lag(settings, f"{settings.kafka_topic_prefix}allocation-campaigns", CAMPAIGN_EVENTS) == 0,
              worker, log, "the worker reading the campaigns topic")
        started = time.perf_counter()
        announce_window(settings, "campaign.closed", campaign_id, datetime.now(UTC))
        _wait(lambda: _draw_committed(engine, campaign_id), worker, log, "the draw", interval=0.05)
        committed = time.perf_counter() - started
        _wait(lambda: _records_on(settings, ALLOCATION_EVENTS) >= len(the_applications), worker, log,
              "every allocation.decided on the broker", interval=0.1)
        last = time.perf_counter() - started
        return CloseToPublished(committed, last, _records_on(settings, ALLOCATION_EVENTS))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        engine.dispose()


@dataclass
class CloseToFamilies:
    to_intake_drained: float  # campaign.closed sent → registrations' application.intake_closed in its outbox
    to_draw_committed: float  # → the draw's transaction committed
    to_last_family: float  # → the last family's application status changed in registrations' ledger
    families: int
    to_outbox_empty: float = 0.0  # → every decision relayed (allocation's outbox holds nothing unpublished)
    # CPU seconds of each process tree from the close to the draw's commit, then to the outbox empty, then to the
    # last family: where the time goes on shared cores.
    cpu: dict[str, tuple[float, float, float]] | None = None


def time_close_to_families(settings: AllocationSettings, registrations: RegistrationsSettings, arguments,
                           folder: Path, servers: dict[str, int | None] | None = None) -> CloseToFamilies:
    """Both workers as processes on a private broker, the ledger holding every application, the allocation
    worker's fallback wait at its production default: from `campaign.closed` to the last family's status."""
    ensure_topics(settings)
    upgrade("allocation", settings)
    upgrade("registrations", registrations)
    engine = make_engine(settings)
    policy, offers, the_applications, seed = random_campaign(
        arguments.applications, arguments.offers, arguments.choices, arguments.seed)
    campaign_id = uuid.uuid4()
    store(engine, campaign_id, policy, offers, the_applications, seed, closed=False)
    with engine.begin() as connection:
        rows = application_rows(campaign_id, the_applications)
        connection.execute(ledger.insert(), [ledger_row(row) for row in rows])
        record_campaign_event(connection, event_from_wire(
            "campaign.published", source="/guichet/campaigns", subject=f"campaigns/{campaign_id}",
            data=snapshot(campaign_id, policy, offers)))
    workers = []
    try:
        for service, service_settings in (("allocation", settings), ("registrations", registrations)):
            log = folder / f"{service}-worker.log"
            env = {**os.environ, **service_settings.environment(), "LOG_LEVEL": "WARNING"}
            with open(log, "w") as output:
                workers.append((subprocess.Popen([sys.executable, "-m", f"services.{service}.worker"], cwd=REPO,
                                                 env=env, stdout=output, stderr=subprocess.STDOUT), log))
        (allocation_worker, allocation_log), (registrations_worker, registrations_log) = workers
        # Long-running workers in production: every consumer has joined its group and read a first record
        # (skipped or harmless) before the clock starts.
        announce_window(settings, "campaign.opened", campaign_id, datetime.now(UTC))
        warm_up(settings)
        for group, spec in (("allocation-campaigns", CAMPAIGN_EVENTS), ("registrations-campaign-directory",
                            CAMPAIGN_EVENTS), ("allocation-applications", APPLICATION_EVENTS),
                            ("registrations-decisions", ALLOCATION_EVENTS)):
            _wait(lambda group=group, spec=spec: _read_something(settings, f"{settings.kafka_topic_prefix}{group}",
                                                                 spec),
                  allocation_worker, allocation_log, f"{group} reading its topic")
        # A fresh Redis has no intake guard: the registrations worker rebuilds it from the 100,000 rows of the
        # ledger once intake is caught up (about 20 s of its CPU). A production worker did that long before the
        # close, so the clock must not start while this one still does.
        guard = make_redis(registrations)
        try:
            _wait(lambda: bool(guard.exists(READY_KEY)), registrations_worker, registrations_log,
                  "intake's guard rebuilt from the ledger", interval=0.1)
        finally:
            guard.close()
        roots = {"allocation worker": allocation_worker.pid, "registrations worker": registrations_worker.pid,
                 **(servers or {})}
        cpu = [cpu_seconds(roots)]
        started = time.perf_counter()
        announce_window(settings, "campaign.closed", campaign_id, datetime.now(UTC))
        _wait(lambda: _intake_announced(engine), registrations_worker, registrations_log,
              "application.intake_closed", interval=0.05)
        drained = time.perf_counter() - started
        _wait(lambda: _draw_committed(engine, campaign_id), allocation_worker, allocation_log, "the draw",
              interval=0.05)
        committed = time.perf_counter() - started
        cpu.append(cpu_seconds(roots))
        _wait(lambda: _outbox_empty(engine), allocation_worker, allocation_log, "every decision relayed",
              interval=0.05)
        emptied = time.perf_counter() - started
        cpu.append(cpu_seconds(roots))
        _wait(lambda: _families_told(engine) >= len(the_applications), registrations_worker, registrations_log,
              "every family's status in the ledger", interval=0.1)
        told = time.perf_counter() - started
        cpu.append(cpu_seconds(roots))
        return CloseToFamilies(drained, committed, told, _families_told(engine), emptied, {
            name: tuple(after[name] - before[name] for before, after in zip(cpu, cpu[1:])) for name in roots})
    finally:
        for worker, _ in workers:
            worker.send_signal(signal.SIGTERM)
        for worker, _ in workers:
            worker.wait(timeout=60)
        engine.dispose()


def warm_up(settings: Settings) -> None:
    """A record each consumer reads and leaves alone: an announcement about another campaign, places given."""
    other = uuid.uuid4()
    producer = Producer(settings)
    try:
        producer.send_event(APPLICATION_EVENTS.name, str(other), make_event(
            "application.intake_closed", source="/bench", subject=f"campaigns/{other}", data={
                "campaign_id": other, "closed_at": datetime.now(UTC), "drained_at": datetime.now(UTC)})).get(timeout=30)
        producer.send_event(ALLOCATION_EVENTS.name, str(other), make_event(
            "offer.places_given", source="/bench", subject="offers/bench", data={
                "campaign_id": other, "offer_id": other, "places_given": 0, "revision": 1,
                "counted_at": datetime.now(UTC)})).get(timeout=30)
    finally:
        producer.close()


def _read_something(settings: Settings, group: str, spec) -> bool:
    ends, committed = group_positions(settings, group, spec)
    return sum(committed.values()) > 0 and all(committed[p] >= end for p, end in ends.items())


def ledger_row(row: dict) -> dict:
    """The registrations ledger's row of an application allocation stored (`application_rows`)."""
    return {"application_id": row["application_id"], "campaign_id": row["campaign_id"], "child_id": row["child_id"],
            "family_account": row["family_account"], "choices": row["choices"],
            "keep_with_applications": row["keep_with_applications"], "sworn_statement": True, "child": row["child"],
            "household": row["household"], "hold": {"kind": "none", "offer_id": None, "position": None},
            "status": "received", "reason": None, "submitted_at": row["submitted_at"], "intake_partition": 0,
            "arrival_position": row["arrival_position"]}


def _intake_announced(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(registrations_outbox)
                                  .where(registrations_outbox.c.event_type == "application.intake_closed")).scalar_one() > 0


def _outbox_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        return not connection.execute(select(outbox.c.position).where(outbox.c.published_at.is_(None)).limit(1)).first()


def _families_told(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(ledger).where(ledger.c.status != "received")
                                  ).scalar_one()


def _draw_committed(engine: Engine, campaign_id: uuid.UUID) -> bool:
    with engine.connect() as connection:
        return published_run(connection, campaign_id) is not None


def _records_on(settings: Settings, spec) -> int:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        topic = physical_name(spec.name, settings.kafka_topic_prefix)
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def announce_window(settings: Settings, event_type: str, campaign_id: uuid.UUID, at: datetime) -> None:
    """campaign.opened or campaign.closed, as the campaigns scheduler publishes it."""
    producer = Producer(settings)
    try:
        producer.send_event(CAMPAIGN_EVENTS.name, str(campaign_id), make_event(
            event_type, source="/guichet/campaigns", subject=f"campaigns/{campaign_id}",
            data={"campaign_id": campaign_id, "version": 1, "at": at})).get(timeout=30)
    finally:
        producer.close()


def _wait(condition, worker: subprocess.Popen, log: Path, what: str, timeout: float = 600, interval: float = 0.5):
    def met() -> bool:
        if worker.poll() is not None:
            raise RuntimeError(f"the allocation worker stopped while waiting for {what}:\n{log.read_text()[-4000:]}")
        return condition()
    wait_until(met, timeout=timeout, interval=interval, what=f"{what} (worker log: {log})")


def render(arguments, command: str, load: float, draw: WholeRun, close: CloseToPublished | None,
           families: CloseToFamilies | None = None) -> str:
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    rows = [("storing the applications (not part of the run)", f"{draw.stored:.2f} s", ""),
            ("core: `allocate(...)` alone", f"{draw.core:.2f} s ({draw.core_cpu:.2f} s CPU)",
             "under 2 s (issue 5); 1 s (issue 18)"),
            ("whole run: `publish_draw(...)` with its reads and writes, one transaction",
             f"{draw.whole:.2f} s ({draw.whole_cpu:.2f} s CPU in the bench's process, "
             f"{draw.whole_postgres_cpu:.2f} s in PostgreSQL's)",
             "under 20 s (issue 5); 10 s (issue 18)")]
    if close is not None:
        rows += [("`campaign.closed` on the broker → the draw committed (worker process, draw delay 0)",
                  f"{close.to_draw_committed:.2f} s", ""),
                 ("`campaign.closed` on the broker → the last `allocation.decided` on the broker",
                  f"{close.to_last_decision:.2f} s", "")]
    if families is not None:
        rows += [("with registrations (issue 18): `campaign.closed` → `application.intake_closed` (10 s grace)",
                  f"{families.to_intake_drained:.2f} s", ""),
                 ("with registrations: `campaign.closed` → the draw committed (fallback wait 5 min, not reached)",
                  f"{families.to_draw_committed:.2f} s", ""),
                 ("with registrations: `campaign.closed` → every decision relayed (allocation's outbox empty)",
                  f"{families.to_outbox_empty:.2f} s", ""),
                 (f"with registrations: `campaign.closed` → the last family's status in the ledger "
                  f"({families.families:,} families)", f"{families.to_last_family:.2f} s", "under 60 s (issue 18)")]
    return "\n".join([
        f"`{command}` on {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit `{commit}`; "
        f"load average (1 min) before the run: {load:.2f}, after it: {os.getloadavg()[0]:.2f} (the machine is "
        "shared: wall-clock times stretch with the load, CPU times much less).",
        "",
        f"{arguments.applications:,} applications with {arguments.choices} ranked choices over {arguments.offers:,} "
        f"offers (the campaign of `bench/allocation_core.py`, seed {arguments.seed}): {draw.placed:,} placed, "
        f"{draw.events:,} events in the outbox. PostgreSQL and Kafka are private to the benchmark, on the same "
        "machine. The whole run is the published draw: reads, the core, the decisions, places, waitlist "
        "entries, outbox events and the draw bundle, in one transaction. The close-to-published figures run "
        "the same campaign again in a fresh database through `python -m services.allocation.worker`: it "
        "reads `campaign.closed`, draws, and its outbox relay sends every decision to the broker "
        "(draw delay 0). The rows \"with registrations\" run it once more with the registrations worker beside "
        "it and every application in its ledger, the allocation worker's fallback wait at its default (5 min): "
        "the draw starts when registrations announces that intake drained past the close, and the clock stops "
        "when the last family's application status has changed in the ledger.",
        "",
        "| step | time | target |",
        "|---|---|---|",
        *(f"| {step} | {time_} | {target} |" for step, time_, target in rows),
        *([] if families is None or not families.cpu else [
            "",
            "CPU seconds of each process tree in the run with registrations: close → draw committed, → every "
            "decision relayed, → last family.",
            "",
            "| process | to the draw's commit | to every decision relayed | to the last family |",
            "|---|---|---|---|",
            *(f"| {name} | " + " | ".join(f"{seconds:.2f} s" for seconds in parts) + " |"
              for name, parts in families.cpu.items())]),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.allocation_draw", description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=1_000)
    parser.add_argument("--choices", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-broker", action="store_true", help="skip the close-to-published run (no Kafka)")
    parser.add_argument("--no-families", action="store_true", help="skip the close-to-families run (registrations)")
    parser.add_argument("--write", action="store_true", help="replace the \"Allocation draw\" section of "
                                                             "docs/PERFORMANCE.md")
    arguments = parser.parse_args(argv)
    command = "python -m bench.allocation_draw " + " ".join(argv if argv is not None else sys.argv[1:])
    load = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="guichet-bench-allocation-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own account when we are root
    postgres_port, kafka_port, controller_port, redis_port = free_ports(4)
    postgres = PostgresServer(folder / "postgres", port=postgres_port)
    kafka = None if arguments.no_broker else KafkaServer(folder / "kafka", port=kafka_port,
                                                         controller_port=controller_port)
    redis_server = None if arguments.no_broker or arguments.no_families else RedisServer(folder / "redis",
                                                                                         port=redis_port)
    try:
        for server in filter(None, (postgres, kafka, redis_server)):
            server.start()
        servers = {"postgres": postgres.running_pid(), **({"kafka": kafka.running_pid()} if kafka else {})}
        draw = time_the_draw(Settings(service_name="bench-allocation", database_url=postgres.url), arguments,
                             servers["postgres"])
        print(f"{arguments.applications} applications, {arguments.choices} choices, {arguments.offers} offers: "
              f"{draw.placed} placed, {draw.events} events")
        print(f"  storing the applications (not timed by the target): {draw.stored:6.2f} s")
        print(f"  core, allocate(...) alone:                          {draw.core:6.2f} s  ({draw.core_cpu:.2f} s CPU; "
              "target 1 s)")
        print(f"  whole run, publish_draw(...) with reads and writes: {draw.whole:6.2f} s  ({draw.whole_cpu:.2f} s CPU, "
              f"PostgreSQL {draw.whole_postgres_cpu:.2f} s CPU; target 10 s)")
        close = None
        if kafka is not None:
            url = make_url(postgres.url)
            with create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
                connection.execute(text("CREATE DATABASE bench_worker"))
            close = time_close_to_last_decision(AllocationSettings(
                service_name="bench-allocation-worker", database_url=url.set(database="bench_worker")
                .render_as_string(hide_password=False), kafka_bootstrap_servers=kafka.bootstrap_servers,
                draw_delay=timedelta(0)), arguments, folder)
            print(f"  campaign.closed → draw committed (worker process):  {close.to_draw_committed:6.2f} s")
            print(f"  campaign.closed → last decision on the broker:      {close.to_last_decision:6.2f} s "
                  f"({close.decisions} records)")
        families = None
        if redis_server is not None:
            with create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
                connection.execute(text("CREATE DATABASE bench_families"))
            database = url.set(database="bench_families").render_as_string(hide_password=False)
            common = dict(database_url=database, kafka_bootstrap_servers=kafka.bootstrap_servers,
                          redis_url=redis_server.url, kafka_topic_prefix="families.")
            families = time_close_to_families(
                AllocationSettings(service_name="bench-allocation-worker", **common),
                RegistrationsSettings(service_name="bench-registrations-worker", **common), arguments, folder, servers)
            print(f"  with registrations: campaign.closed → intake drained: {families.to_intake_drained:6.2f} s")
            print(f"  with registrations: campaign.closed → draw committed: {families.to_draw_committed:6.2f} s")
            print(f"  with registrations: campaign.closed → outbox empty:   {families.to_outbox_empty:6.2f} s")
            print(f"  with registrations: campaign.closed → last family:    {families.to_last_family:6.2f} s "
                  f"({families.families} families)")
            for name, parts in (families.cpu or {}).items():
                print(f"    CPU of {name:22s} to the commit {parts[0]:6.2f} s, to the outbox empty {parts[1]:6.2f} s, "
                      f"to the last family {parts[2]:6.2f} s")
        if arguments.write:
            section = render(arguments, command.strip(), load, draw, close, families)
            PERFORMANCE_MD.write_text(replace_sections(PERFORMANCE_MD.read_text(encoding="utf-8"),
                                                       {SECTION: section}), encoding="utf-8")
            print(f"written to {PERFORMANCE_MD}")
    finally:
        for server in filter(None, (redis_server, kafka, postgres)):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
