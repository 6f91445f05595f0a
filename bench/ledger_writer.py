"""How fast the intake consumer's ledger writer records applications: `python -m bench.ledger_writer`.

Starts a private PostgreSQL, migrates the registrations schema, and times `record_intake` on batches of
submissions as the intake consumer receives them from Kafka (the broker is not part of this figure)."""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine

from deploy.local.processes import PostgresServer
from services.registrations.ledger import IntakeRecord, record_intake
from shared.config import Settings
from shared.migrations import upgrade
from tests.integration.registrations.test_ledger import submitted
from tests.support.servers import free_port


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=500, help="records per poll, as the consumer gets them")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="guichet-bench-ledger-"))
    folder.chmod(0o755)
    postgres = PostgresServer(folder / "postgres", port=free_port())
    postgres.start()
    try:
        upgrade("registrations", Settings(service_name="bench-ledger", database_url=postgres.url))
        engine = create_engine(postgres.url)
        campaign = uuid.uuid4()
        records = [IntakeRecord(submitted(campaign), 0, n) for n in range(args.applications)]
        started = time.perf_counter()
        for first in range(0, len(records), args.batch):
            record_intake(engine, records[first:first + args.batch])
        elapsed = time.perf_counter() - started
        print(f"| `python -m bench.ledger_writer --applications {args.applications} --batch {args.batch}` "
              f"| {os.cpu_count()} | {date.today()} | {args.applications / elapsed:,.0f} rows/s |")
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
