"""How fast the intake consumer's ledger writer records applications: `python -m bench.ledger_writer`.

Starts a private PostgreSQL, migrates the registrations schema, and times `record_intake` on batches of
submissions as the intake consumer receives them from Kafka (the broker is not part of this figure)."""
from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import create_engine

from bench.stack import private_servers
from services.registrations.usecases.ledger import IntakeRecord, record_intake
from shared.contracts.applications import ApplicationSubmittedSchema
from shared.migrations import upgrade


def submitted(campaign_id: uuid.UUID) -> dict[str, Any]:
    """One `application.submitted`'s data, as intake publishes it (checked against the contract): a new
    application, a new child, the same family facts every time."""
    data = {
        "application_id": str(uuid.uuid4()), "campaign_id": str(campaign_id), "family_account": "family-1",
        "child": {"child_id": str(uuid.uuid4()), "first_name": "Inès", "last_name": "Martin",
                  "birth_date": "2016-05-14", "disability_allowance": False, "school": None},
        "household": {"single_parent": False, "quotient_tranche": 4, "quotient_justified_on": "2025-09-30",
                      "residence_arrondissement": 11, "postal_mail": False},
        "choices": [str(uuid.uuid4())], "keep_with_applications": [], "sworn_statement": True,
        "submitted_at": datetime(2026, 2, 8, 23, 1, tzinfo=UTC).isoformat(),
        "hold": {"kind": "none", "offer_id": None, "position": None},
    }
    errors = ApplicationSubmittedSchema().validate(data)
    assert not errors, f"the bench's submission no longer follows application.submitted: {errors}"
    return data


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=500, help="records per poll, as the consumer gets them")
    args = parser.parse_args(argv)
    with private_servers(postgres=True, prefix="guichet-bench-ledger-") as servers:
        upgrade("registrations", servers.settings("bench-ledger"))
        engine = create_engine(servers.postgres.url)
        campaign = uuid.uuid4()
        records = [IntakeRecord(submitted(campaign), 0, n) for n in range(args.applications)]
        started = time.perf_counter()
        for first in range(0, len(records), args.batch):
            record_intake(engine, records[first:first + args.batch])
        elapsed = time.perf_counter() - started
        engine.dispose()
        print(f"| `python -m bench.ledger_writer --applications {args.applications} --batch {args.batch}` "
              f"| {os.cpu_count()} | {date.today()} | {args.applications / elapsed:,.0f} rows/s |")


if __name__ == "__main__":
    main()
