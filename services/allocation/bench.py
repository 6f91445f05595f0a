"""Time a whole draw (issue 5: 100,000 applications with 3 ranked choices over 1,000 offers; the core
under 2 s and the whole run under 20 s on the 2-core machine).

    python -m services.allocation.bench                          # 100,000 × 1,000, 3 choices
    python -m services.allocation.bench --applications 20000 --offers 300

The campaign is the one bench/allocation_core.py builds, stored as the worker stores campaign and
application events. Then `publish_draw` is timed: the whole run, with its reads, the core, and
every write of its one transaction (decisions, places, waitlist entries, outbox events, the draw
bundle). The core is then timed alone on the same inputs. Family histories are empty (no earlier
campaign is stored), so the core's inputs differ from bench/allocation_core.py's on those facts.

It starts a private PostgreSQL (as bench/ledger_writer.py does: a benchmark must not write 100,000
applications into a shared database). A benchmark, not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, func, select

from bench.allocation_core import campaign as random_campaign
from deploy.local.processes import PostgresServer
from services.allocation.draws import draw_inputs, publish_draw
from services.allocation.domain import Application, CampaignPolicy, Criterion, Offer, allocate, commitment
from services.allocation.repository import get_campaign, mark_closed, save_seed, save_snapshot
from services.allocation.tables import applications, outbox
from shared.config import Settings
from shared.db import make_engine
from shared.migrations import upgrade
from tests.support.servers import free_port

REFERENCE_DATE = date(2026, 3, 2)
NAMES = uuid.UUID("0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c33")  # offer and child names → stable UUIDs


@contextmanager
def private_postgres() -> Iterator[Settings]:
    folder = Path(tempfile.mkdtemp(prefix="guichet-bench-allocation-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own account when we are root
    postgres = PostgresServer(folder / "postgres", port=free_port())
    postgres.start()
    try:
        yield Settings(service_name="bench-allocation", database_url=postgres.url)
    finally:
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


def snapshot(campaign_id: uuid.UUID, policy: CampaignPolicy, offers: list[Offer]) -> dict:
    """The `campaign.published` data (JSON form) of the benchmark's campaign."""
    opens_at = datetime(2026, 2, 1, 23, 1, tzinfo=UTC)
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
                    "arrondissement": offer.arrondissement, "starts_on": "2026-03-02", "ends_on": "2026-03-06",
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
    by_arrival = sorted(the_applications, key=lambda a: a.arrival_sequence)
    rank = {application.application_id: number for number, application in enumerate(by_arrival, start=1)}
    rows = []
    for application in the_applications:
        application_id, facts = uuid.UUID(application.application_id), application.facts
        rows.append(dict(
            application_id=application_id, campaign_id=campaign_id, family_account=application.family_id,
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
            arrival_position=application.arrival_sequence, arrival_rank=rank[application.application_id],
            submitted_at=datetime(2026, 2, 2, tzinfo=UTC)))
    return rows


def store(engine: Engine, campaign_id: uuid.UUID, policy, offers, the_applications, seed: bytes) -> None:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        save_snapshot(connection, snapshot(campaign_id, policy, offers))
        connection.execute(applications.insert(), application_rows(campaign_id, the_applications))
        save_seed(connection, campaign_id, seed, commitment(seed), now)
        mark_closed(connection, campaign_id, now)


def _criterion(criterion: Criterion) -> dict:
    return {"name": str(criterion.name), "max_tranche": criterion.max_tranche}


def _named(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMES, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.allocation.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=1_000)
    parser.add_argument("--choices", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args(argv)
    with private_postgres() as settings:
        upgrade("allocation", settings)
        engine = make_engine(settings)
        try:
            policy, offers, the_applications, seed = random_campaign(
                arguments.applications, arguments.offers, arguments.choices, arguments.seed)
            campaign_id = uuid.uuid4()
            started = time.perf_counter()
            store(engine, campaign_id, policy, offers, the_applications, seed)
            stored = time.perf_counter() - started
            started = time.perf_counter()
            publish_draw(engine, campaign_id, datetime.now(UTC))
            whole = time.perf_counter() - started
            with engine.connect() as connection:
                inputs = draw_inputs(connection, get_campaign(connection, campaign_id))
                events = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
            started = time.perf_counter()
            result = allocate(inputs.policy, inputs.offers, inputs.applications, seed)
            core = time.perf_counter() - started
        finally:
            engine.dispose()
    print(f"{arguments.applications} applications, {arguments.choices} choices, {arguments.offers} offers: "
          f"{result.statistics.allocated} placed, {events} events")
    print(f"  storing the applications (not timed by the target): {stored:6.2f} s")
    print(f"  core, allocate(...) alone:                          {core:6.2f} s  (target < 2 s)")
    print(f"  whole run, publish_draw(...) with reads and writes: {whole:6.2f} s  (target < 20 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
