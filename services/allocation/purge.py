"""`python -m services.allocation.purge`: enforce the retention periods once (docs/privacy.md); run daily."""
from __future__ import annotations

import sys

from services.allocation.settings import AllocationSettings
from services.allocation.usecases.purge import AllocationRetention, purge
from shared.retention import command


def retention(settings: AllocationSettings) -> AllocationRetention:
    return AllocationRetention(applications=settings.application_retention, inbox=settings.inbox_retention,
                               audit=settings.audit_retention)


def main() -> int:
    settings = AllocationSettings.from_env("allocation-purge")
    return command(settings, lambda engine, now: purge(engine, now, retention(settings)))


if __name__ == "__main__":
    sys.exit(main())
