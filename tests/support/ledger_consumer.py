"""The registrations worker's intake consumer (the ledger writer) in a process of its own, for tests that kill
it in the middle of a batch: `python -m tests.support.ledger_consumer STALL_FILE STALL_AT`, with the settings
of `RegistrationsSettings.environment()` in its environment.

It is the worker's own loop (`worker.intake_group`, `handlers.events.handle_submissions`), joined to the same
consumer group as the worker under test. Its STALL_AT-th batch stops inside its transaction, once its rows are
inserted and before the commit: it writes the batch's application ids to STALL_FILE and waits there for the
test to kill it (SIGKILL: no commit of the transaction, nor of the batch's offsets)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

REPO = Path(__file__).resolve().parents[2]


def start(settings, stall_file: Path, stall_at: int) -> subprocess.Popen:
    env = {**os.environ, **settings.environment()}
    return subprocess.Popen([sys.executable, "-m", "tests.support.ledger_consumer", str(stall_file), str(stall_at)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def members_with_partitions(settings, group: str) -> int:
    """How many members of `group` hold partitions (the group stable)."""
    from shared.kafka import client_options

    admin = KafkaAdminClient(**client_options(settings, client_id=f"{settings.service_name}-test-group-probe"))
    try:
        try:
            described = admin.describe_groups([group])[group]
        except KafkaError:  # no coordinator for the group yet
            return 0
        if described["group_state"] != "Stable":
            return 0
        return sum(1 for member in described["members"]
                   if any(assigned["partitions"] for assigned in (member["member_assignment"] or {})
                          .get("assigned_partitions", [])))
    finally:
        admin.close()


def main() -> None:
    from sqlalchemy import create_engine

    from services.registrations.handlers.events import handle_submissions
    from services.registrations.settings import RegistrationsSettings
    from services.registrations.usecases import ledger
    from services.registrations.worker import INTAKE_CONSUMER, intake_group
    from shared.kafka import ConsumerLoop
    from shared.topics import APPLICATION_SUBMISSIONS

    stall_file, stall_at = Path(sys.argv[1]), int(sys.argv[2])
    settings = RegistrationsSettings.from_env("registrations-worker")
    engine = create_engine(settings.database_url)
    batches = 0
    insert = ledger.insert_applications

    def insert_then_stall(connection, rows, transitions) -> None:
        nonlocal batches
        insert(connection, rows, transitions)
        batches += 1
        if batches == stall_at:
            stall_file.write_text(json.dumps([str(row["application_id"]) for row in rows]))
            while True:
                time.sleep(1)

    ledger.insert_applications = insert_then_stall
    write = partial(handle_submissions, engine)
    ConsumerLoop(settings, intake_group(settings), [APPLICATION_SUBMISSIONS], handler=lambda record: write([record]),
                 batch_handler=write, **INTAKE_CONSUMER).run()


if __name__ == "__main__":
    main()
